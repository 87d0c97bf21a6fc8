import { describe, expect, it } from 'vitest';
import {
  daysInMonth,
  formatAtExpression,
  parseExpression,
  parseLocalDateTime,
} from '../../src/schedule/expression.ts';
import { createRandom, local } from './support.ts';

describe('parseExpression: at()', () => {
  it.each([
    ['at(2026-01-02T03:04:05)', '2026-01-02T03:04:05'],
    ['at(2026-12-31T23:59:59)', '2026-12-31T23:59:59'],
    ['at(2026-01-01T00:00:00)', '2026-01-01T00:00:00'],
    ['at(2024-02-29T12:00:00)', '2024-02-29T12:00:00'],
    ['at(2000-02-29T00:00:00)', '2000-02-29T00:00:00'],
    ['at(2026-03-08T02:30:00)', '2026-03-08T02:30:00'],
    ['at(1999-04-30T10:10:10)', '1999-04-30T10:10:10'],
    ['at(9999-12-31T23:59:59)', '9999-12-31T23:59:59'],
  ])('reads %s as the wall-clock time %s, seconds as written', (text, expected) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed).toEqual({ kind: 'at', local: local(expected) });
  });

  it.each([
    ['at(2026-02-30T00:00:00)', 'not a real calendar date'],
    ['at(2025-02-29T00:00:00)', 'not a real calendar date'],
    ['at(1900-02-29T00:00:00)', 'not a real calendar date'],
    ['at(2100-02-29T00:00:00)', 'not a real calendar date'],
    ['at(2026-04-31T00:00:00)', 'not a real calendar date'],
    ['at(2026-06-31T00:00:00)', 'not a real calendar date'],
    ['at(2026-13-01T00:00:00)', 'not a real calendar date'],
    ['at(2026-00-10T00:00:00)', 'not a real calendar date'],
    ['at(2026-01-00T00:00:00)', 'not a real calendar date'],
    ['at(2026-01-01T24:00:00)', 'not a real calendar date'],
    ['at(2026-01-01T23:60:00)', 'not a real calendar date'],
    ['at(2026-01-01T23:59:60)', 'not a real calendar date'],
    ['at(2026-01-01 00:00:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at()', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-1-1T00:00:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01T00:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01T00:00:00Z)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01T00:00:00.000)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01T00:00:00+02:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01t00:00:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at( 2026-01-01T00:00:00)', 'yyyy-mm-ddThh:mm:ss'],
    ['at(2026-01-01T00:00:00', 'expected at('],
    ['AT(2026-01-01T00:00:00)', 'expected at('],
    [' at(2026-01-01T00:00:00)', 'expected at('],
    ['at(2026-01-01T00:00:00) ', 'expected at('],
    ['at 2026-01-01T00:00:00', 'expected at('],
    ['2026-01-01T00:00:00', 'expected at('],
  ])('rejects %s, saying %s', (text, reasonFragment) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reasonFragment);
  });

  it.each([undefined, ''])('calls %j an empty expression', (text) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed).toEqual({ kind: 'invalid', reason: 'the expression is empty' });
  });
});

describe('parseExpression: rate()', () => {
  it.each([
    ['rate(1 minute)', 1, 'minute'],
    ['rate(5 minutes)', 5, 'minutes'],
    ['rate(1 hour)', 1, 'hour'],
    ['rate(12 hours)', 12, 'hours'],
    ['rate(1 day)', 1, 'day'],
    ['rate(365 days)', 365, 'days'],
    ['rate(10000 minutes)', 10000, 'minutes'],
    // No agreement rule between value and unit in Scheduler: every combination is recurring.
    ['rate(1 hours)', 1, 'hours'],
    ['rate(1 minutes)', 1, 'minutes'],
    ['rate(1 days)', 1, 'days'],
    ['rate(5 minute)', 5, 'minute'],
    ['rate(2 hour)', 2, 'hour'],
    ['rate(30 day)', 30, 'day'],
  ])('reads %s as every %i %s', (text, value, unit) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed).toEqual({ kind: 'rate', value, unit });
  });

  it.each([
    ['rate(0 minutes)', 'positive whole number'],
    ['rate(01 minute)', 'positive whole number'],
    ['rate(-5 minutes)', "'value unit'"],
    ['rate(1.5 hours)', "'value unit'"],
    ['rate(5 seconds)', "'value unit'"],
    ['rate(5 weeks)', "'value unit'"],
    ['rate(5  minutes)', "'value unit'"],
    ['rate(5minutes)', "'value unit'"],
    ['rate(5 Minutes)', "'value unit'"],
    ['rate()', "'value unit'"],
    ['rate(minutes)', "'value unit'"],
    ['rate(99999999999999999999 minutes)', 'too large'],
  ])('rejects %s, saying %s', (text, reasonFragment) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reasonFragment);
  });
});

describe('parseExpression: cron()', () => {
  it.each([
    'cron(0 12 * * ? *)',
    'cron(15 10 ? * 6L 2026-2030)',
    'cron(0 18 ? * MON-FRI *)',
    'cron(0 8 1 * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0/10 * ? * MON-FRI *)',
    'cron(0/5 8-17 ? * MON-FRI *)',
    'cron(0 9 ? * 2#1 *)',
    'cron(0 0 L * ? *)',
    'cron(0 0 LW * ? *)',
    'cron(0 0 15W * ? *)',
    'cron(0 0 ? * L *)',
    'cron(0,15,30,45 0-23/2 1-15 JAN,MAR,dec ? 2026)',
    'cron(* * * * ? *)',
    'cron(59 23 31 12 ? 2199)',
    'cron(0 0 ? * SUN,SAT 1970)',
    'cron(*/5 * ? * * *)',
  ])('accepts %s as recurring, keeping its six fields', (text) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed).toEqual({ kind: 'cron', fields: text.slice(5, -1).split(' ') });
  });

  it.each([
    ['cron(* * * * *)', '6 fields'],
    ['cron(0 12 * * ? * *)', '6 fields'],
    ['cron()', '6 fields'],
    ['cron(0  12 * * ? *)', '6 fields'],
    ['cron(0 12 * * * *)', "'?' in exactly one"],
    ['cron(0 12 ? * ? *)', "'?' in exactly one"],
    ['cron(0 12 1 * MON *)', "'?' in exactly one"],
    ['cron(60 12 * * ? *)', 'minutes field'],
    ['cron(0 24 * * ? *)', 'hours field'],
    ['cron(0 12 0 * ? *)', 'day-of-month field'],
    ['cron(0 12 32 * ? *)', 'day-of-month field'],
    ['cron(0 12 * 13 ? *)', 'month field'],
    ['cron(0 12 * FOO ? *)', 'month field'],
    ['cron(0 12 ? * 8 *)', 'day-of-week field'],
    ['cron(0 12 ? * 0 *)', 'day-of-week field'],
    ['cron(0 12 ? * 2#6 *)', 'day-of-week field'],
    ['cron(0 12 ? * 9L *)', 'day-of-week field'],
    ['cron(0 12 32W * ? *)', 'day-of-month field'],
    ['cron(0 12 * * ? 1969)', 'year field'],
    ['cron(0 12 * * ? 2200)', 'year field'],
    ['cron(? 12 * * ? *)', 'minutes field'],
    ['cron(0/0 12 * * ? *)', 'minutes field'],
    ['cron(0/x 12 * * ? *)', 'minutes field'],
    ['cron(0-5-10 12 * * ? *)', 'minutes field'],
    ['cron(0/5/5 12 * * ? *)', 'minutes field'],
    ['cron(0,,5 12 * * ? *)', 'minutes field'],
    ['cron(a 12 * * ? *)', 'minutes field'],
    ['cron(L 12 * * ? *)', 'minutes field'],
  ])('rejects %s, saying %s', (text, reasonFragment) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reasonFragment);
  });
});

describe('parseExpression: other text', () => {
  it.each([
    'every 5 minutes',
    'at',
    'cron',
    'rate',
    '@daily',
    'at(2026-01-01T00:00:00)\n',
    'once(2026-01-01T00:00:00)',
  ])('rejects %j and lists the expected forms', (text) => {
    // Act
    const parsed = parseExpression(text);

    // Assess
    expect(parsed).toEqual({
      kind: 'invalid',
      reason: expect.stringContaining('expected at(yyyy-mm-ddThh:mm:ss)'),
    });
  });
});

describe('parseLocalDateTime and formatAtExpression', () => {
  it('zero-pads every field when formatting', () => {
    // Act
    const text = formatAtExpression({ year: 26, month: 1, day: 2, hour: 3, minute: 4, second: 5 });

    // Assess
    expect(text).toBe('at(0026-01-02T03:04:05)');
  });

  it.each([
    [2024, 2, 29],
    [2000, 2, 29],
    [2025, 2, 28],
    [1900, 2, 28],
    [2026, 4, 30],
    [2026, 12, 31],
  ])('knows %i-%i has %i days', (year, month, days) => {
    // Act / Assess
    expect(daysInMonth(year, month)).toBe(days);
  });

  it('accepts exactly the dates the proleptic Gregorian calendar has, for every day slot of 8 years', () => {
    // Prepare: 1900 and 2100 are not leap years, 2000 is; 2023–2026 cover the ordinary cases.
    const years = [1900, 2000, 2023, 2024, 2025, 2026, 2100, 2400];
    let checked = 0;

    for (const year of years) {
      for (let month = 1; month <= 12; month += 1) {
        for (let day = 1; day <= 31; day += 1) {
          const text = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T06:07:08`;
          // Independent: Date normalises an impossible date into the next month.
          const calendar = new Date(Date.UTC(year, month - 1, day));
          const real = calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;

          // Act
          const parsed = parseLocalDateTime(text);

          // Assess
          expect(parsed !== undefined, text).toBe(real);
          checked += 1;
        }
      }
    }
    expect(checked).toBe(years.length * 12 * 31);
  });

  it('round-trips 2,000 generated wall-clock times through formatAtExpression and parseExpression', () => {
    // Prepare
    const random = createRandom(20260301);

    for (let index = 0; index < 2000; index += 1) {
      const year = random.integer(1970, 2199);
      const month = random.integer(1, 12);
      const value = {
        year,
        month,
        day: random.integer(1, daysInMonth(year, month)),
        hour: random.integer(0, 23),
        minute: random.integer(0, 59),
        second: random.integer(0, 59),
      };

      // Act
      const parsed = parseExpression(formatAtExpression(value));

      // Assess
      expect(parsed).toEqual({ kind: 'at', local: value });
    }
  });
});
