// Parsing EventBridge Scheduler expressions: at() for one-time schedules, rate() and cron() for
// recurring ones. Parsing is strict on purpose: anything this module does not recognise comes back
// as `invalid`, and the caller keeps that schedule rather than guessing what it means.
//
// Decisions where AWS's own validation is not documented:
// - rate(): every value/unit combination is recurring: 'rate(1 hours)' and 'rate(5 hour)' as much as
//   'rate(1 hour)'. The Scheduler user guide states no agreement rule between the value and the unit
//   (that rule belongs to EventBridge *rules*), and 'rate(1 hours)' appears in Terraform's own
//   documentation and in deployed public configurations. Refusing it would count such a schedule as
//   unparseable on every sweep (and refuse it in the create path) for no safety gain: a rate() is
//   never deleted. Values are positive integers written without leading zeros.
// - cron(): exactly six fields separated by single spaces; exactly one of day-of-month and
//   day-of-week is '?'. Wildcards as the guide lists them: ', - * /' everywhere, 'L' and 'nW' (and
//   'LW') in day-of-month, 'L', 'nL' and 'n#k' in day-of-week. Month and weekday names (JAN, MON)
//   are accepted in any case.
// - No surrounding or inner whitespace is tolerated in at() and rate().
// Since an invalid expression is only ever kept, never deleted, strictness costs nothing but a
// skipped count.

export interface LocalDateTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export type RateUnit = 'minute' | 'minutes' | 'hour' | 'hours' | 'day' | 'days';

export type ParsedExpression =
  | { kind: 'at'; local: LocalDateTime }
  | { kind: 'rate'; value: number; unit: RateUnit }
  | { kind: 'cron'; fields: string[] }
  | { kind: 'invalid'; reason: string };

const expectedForms =
  'at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month day-of-week year)';

const localDateTimePattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/;
const ratePattern = /^(\d+) (minutes?|hours?|days?)$/;

export function parseExpression(text: string | undefined): ParsedExpression {
  if (text === undefined || text === '') return { kind: 'invalid', reason: 'the expression is empty' };
  const call = /^(at|rate|cron)\((.*)\)$/s.exec(text);
  if (!call) return invalid(`expected ${expectedForms}, got ${quote(text)}`);
  const [, name, argument = ''] = call;
  if (name === 'at') return parseAt(argument);
  if (name === 'rate') return parseRate(argument);
  return parseCron(argument);
}

/** Formats a wall-clock time as an at() expression, zero-padded: 'at(2026-01-02T03:04:05)'. */
export function formatAtExpression(local: LocalDateTime): string {
  return `at(${formatLocalDateTime(local)})`;
}

/** 'yyyy-mm-ddThh:mm:ss', as at() and the logs write it. */
export function formatLocalDateTime(local: LocalDateTime): string {
  const date = `${pad(local.year, 4)}-${pad(local.month, 2)}-${pad(local.day, 2)}`;
  return `${date}T${pad(local.hour, 2)}:${pad(local.minute, 2)}:${pad(local.second, 2)}`;
}

/** Reads 'yyyy-mm-ddThh:mm:ss'; undefined unless it is a real calendar date and a real time of day. */
export function parseLocalDateTime(text: string): LocalDateTime | undefined {
  const match = localDateTimePattern.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  return { year, month, day, hour, minute, second };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function parseAt(argument: string): ParsedExpression {
  if (!localDateTimePattern.test(argument)) {
    return invalid(`at() expects yyyy-mm-ddThh:mm:ss, got ${quote(argument)}`);
  }
  const local = parseLocalDateTime(argument);
  if (!local) return invalid(`at() names ${quote(argument)}, which is not a real calendar date and time`);
  return { kind: 'at', local };
}

function parseRate(argument: string): ParsedExpression {
  const match = ratePattern.exec(argument);
  if (!match)
    return invalid(`rate() expects 'value unit' (unit minute(s), hour(s) or day(s)), got ${quote(argument)}`);
  const [, digits = '', unit = ''] = match;
  if (digits.startsWith('0')) {
    return invalid(`rate() expects a positive whole number without leading zeros, got ${quote(digits)}`);
  }
  const value = Number(digits);
  if (!Number.isSafeInteger(value)) return invalid(`rate() value ${digits} is too large`);
  return { kind: 'rate', value, unit: unit as RateUnit };
}

interface CronFieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  question?: boolean;
  dayOfMonthWildcards?: boolean;
  dayOfWeekWildcards?: boolean;
}

const monthNames = [
  'JAN',
  'FEB',
  'MAR',
  'APR',
  'MAY',
  'JUN',
  'JUL',
  'AUG',
  'SEP',
  'OCT',
  'NOV',
  'DEC',
] as const;
const weekdayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;

const cronFields: readonly CronFieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, question: true, dayOfMonthWildcards: true },
  { name: 'month', min: 1, max: 12, names: monthNames },
  { name: 'day-of-week', min: 1, max: 7, names: weekdayNames, question: true, dayOfWeekWildcards: true },
  { name: 'year', min: 1970, max: 2199 },
];

function parseCron(argument: string): ParsedExpression {
  const fields = argument.split(' ');
  if (fields.length !== cronFields.length || fields.some((field) => field === '')) {
    return invalid(
      `cron() expects 6 fields separated by single spaces (minutes hours day-of-month month day-of-week year), got ${quote(argument)}`,
    );
  }
  for (const [index, spec] of cronFields.entries()) {
    const field = fields[index] ?? '';
    const problem = checkCronField(field, spec);
    if (problem) return invalid(`cron() ${spec.name} field ${quote(field)}: ${problem}`);
  }
  const dayOfMonthUnset = fields[2] === '?';
  const dayOfWeekUnset = fields[4] === '?';
  if (dayOfMonthUnset === dayOfWeekUnset) {
    return invalid(`cron() needs '?' in exactly one of day-of-month and day-of-week, got ${quote(argument)}`);
  }
  return { kind: 'cron', fields };
}

/** Returns what is wrong with one cron field, or undefined when it is well formed. */
function checkCronField(field: string, spec: CronFieldSpec): string | undefined {
  if (field === '?') return spec.question ? undefined : `'?' is allowed only in day-of-month and day-of-week`;
  if (spec.dayOfMonthWildcards && (field === 'L' || field === 'LW')) return undefined;
  if (spec.dayOfWeekWildcards && field === 'L') return undefined;
  if (spec.dayOfMonthWildcards && field.endsWith('W')) {
    return isValue(field.slice(0, -1), spec) ? undefined : `'W' needs a day of month, such as 15W`;
  }
  if (spec.dayOfWeekWildcards && /^[^,]+L$/.test(field)) {
    return isValue(field.slice(0, -1), spec) ? undefined : `'L' after a weekday needs a weekday, such as 6L`;
  }
  if (spec.dayOfWeekWildcards && field.includes('#')) {
    const [weekday = '', nth = ''] = field.split('#');
    return isValue(weekday, spec) && /^[1-5]$/.test(nth) ? undefined : `'#' expects weekday#1 to weekday#5`;
  }
  for (const item of field.split(',')) {
    const problem = checkCronItem(item, spec);
    if (problem) return problem;
  }
  return undefined;
}

function checkCronItem(item: string, spec: CronFieldSpec): string | undefined {
  const expected = `expected *, a value from ${spec.min} to ${spec.max}${spec.names ? ` or a name` : ''}, a range a-b, or a step x/n`;
  const [base = '', step, extra] = item.split('/');
  if (extra !== undefined) return expected;
  if (step !== undefined && !/^[1-9]\d*$/.test(step))
    return `${expected}; the step must be a positive number`;
  if (base === '*') return undefined;
  const [start = '', end, beyond] = base.split('-');
  if (beyond !== undefined) return expected;
  if (!isValue(start, spec)) return expected;
  if (end !== undefined && !isValue(end, spec)) return expected;
  return undefined;
}

function isValue(text: string, spec: CronFieldSpec): boolean {
  if (/^\d{1,4}$/.test(text)) {
    const value = Number(text);
    return value >= spec.min && value <= spec.max;
  }
  return spec.names?.includes(text.toUpperCase()) ?? false;
}

function invalid(reason: string): ParsedExpression {
  return { kind: 'invalid', reason };
}

function quote(text: string): string {
  return `'${text.length > 80 ? `${text.slice(0, 77)}...` : text}'`;
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}
