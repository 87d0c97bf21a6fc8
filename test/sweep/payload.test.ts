import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { PAYLOAD_FIELDS, parseSweepPayload, UnknownFieldError } from '../../src/sweep/payload.ts';

function rejection(payload: unknown): InputError {
  try {
    parseSweepPayload(payload);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(payload)} to be rejected`);
}

describe('sweep payload', () => {
  it.each([
    ['no payload', undefined],
    ['null', null],
    ['an empty object', {}],
    ['an empty string', ''],
  ])('treats %s as "the configured defaults"', (_label, payload) => {
    expect(parseSweepPayload(payload)).toEqual({});
  });

  it('rejects a payload dressed as the scheduled event that carries a sweep field, naming it', () => {
    const disguised = { source: 'aws.events', 'detail-type': 'Scheduled Event', dryrun: true };

    expect(() => parseSweepPayload(disguised)).toThrow(
      /Unknown fields? .*'dryrun' \(did you mean 'dryRun'\?\)/,
    );
  });

  it('treats the EventBridge scheduled event as "the configured defaults"', () => {
    // Prepare
    const scheduledEvent = {
      version: '0',
      id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: '2025-10-08T16:53:06Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:123456789012:rule/sweep'],
      detail: {},
    };

    // Act
    const request = parseSweepPayload(scheduledEvent);

    // Assess
    expect(request).toEqual({});
  });

  it('accepts every field at valid values', () => {
    // Prepare
    const payload = {
      dryRun: true,
      groups: ['default', 'orders-2024.v1_x'],
      namePrefix: 'reminder-',
      maxDeletes: 500,
      graceMinutes: 0,
      keepDisabled: false,
    };

    // Act
    const request = parseSweepPayload(payload);

    // Assess
    expect(request).toEqual(payload);
  });

  it('rejects a misspelt dryRun by name and suggests the right spelling', () => {
    const error = rejection({ dryrun: true });

    expect(error).toBeInstanceOf(UnknownFieldError);
    expect(error.message).toBe(
      "Unknown field 'dryrun' (did you mean 'dryRun'?) in sweep payload; allowed: dryRun, groups, namePrefix, maxDeletes, graceMinutes, keepDisabled, fullLookup, protectPrefixes, cloudFormationOwned",
    );
  });

  it('names every unknown field, even beside valid ones, suggesting a near spelling', () => {
    const error = rejection({ dryRun: true, group: 'a', limit: 3 });

    expect(error.message).toMatch(
      /^Unknown fields 'group' \(did you mean 'groups'\?\), 'limit' in sweep payload; allowed: /,
    );
  });

  it('rejects an event that only looks like a scheduled event, naming the field that differs', () => {
    const error = rejection({ source: 'aws.events', 'detail-type': 'Object Created' });

    expect(error.field).toBe('scheduled event.detail-type');
    expect(error.message).toBe(
      "Invalid scheduled event.detail-type: expected 'Scheduled Event', got 'Object Created'",
    );
  });

  it.each([
    ['a string', 'dryRun'],
    ['an array', [{ dryRun: true }]],
    ['a number', 1],
  ])('rejects a payload that is %s', (_label, payload) => {
    const error = rejection(payload);

    expect(error.field).toBe('sweep payload');
    expect(error.message).toContain('a JSON object with fields dryRun, groups');
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'dryRun as a string',
      { dryRun: 'false' },
      'dryRun',
      /expected true or false \(a JSON boolean\), got 'false'/,
    ],
    ['dryRun as a number', { dryRun: 1 }, 'dryRun', /got 1$/],
    ['keepDisabled as a string', { keepDisabled: 'true' }, 'keepDisabled', /true or false/],
    ['maxDeletes of 0', { maxDeletes: 0 }, 'maxDeletes', /a whole number of at least 1, got 0$/],
    ['maxDeletes negative', { maxDeletes: -5 }, 'maxDeletes', /at least 1/],
    ['maxDeletes fractional', { maxDeletes: 2.5 }, 'maxDeletes', /whole number/],
    ['maxDeletes as a string', { maxDeletes: '10' }, 'maxDeletes', /got '10'/],
    ['graceMinutes negative', { graceMinutes: -1 }, 'graceMinutes', /from 0 to 10080, got -1$/],
    ['graceMinutes over a week', { graceMinutes: 10_081 }, 'graceMinutes', /from 0 to 10080/],
    ['graceMinutes null', { graceMinutes: null }, 'graceMinutes', /got null$/],
    [
      'groups as a string',
      { groups: 'default' },
      'groups',
      /a non-empty array of up to 500 schedule group names/,
    ],
    ['groups empty', { groups: [] }, 'groups', /leave it out to sweep every group/],
    [
      'a group with a space',
      { groups: ['my group'] },
      'groups[0]',
      /\(1-64 characters of 0-9 a-z A-Z - _ \.\), got 'my group'/,
    ],
    ['a group of 65 characters', { groups: ['ok', 'g'.repeat(65)] }, 'groups[1]', /schedule group name/],
    ['a group that is not a string', { groups: [7] }, 'groups[0]', /got 7$/],
    ['a group named twice', { groups: ['a', 'b', 'a'] }, 'groups[2]', /each group named once/],
    ['namePrefix empty', { namePrefix: '' }, 'namePrefix', /schedule name prefix/],
    ['namePrefix with a slash', { namePrefix: 'a/b' }, 'namePrefix', /got 'a\/b'/],
    [
      'cloudFormationOwned not keep or sweep',
      { cloudFormationOwned: 'delete' },
      'cloudFormationOwned',
      /'keep' or 'sweep', got 'delete'/,
    ],
  ])('rejects %s, naming the field and the expected form', (_label, payload, field, message) => {
    const error = rejection(payload);

    expect(error.field).toBe(field);
    expect(error.message).toMatch(new RegExp(`^Invalid ${field.replace(/[[\]]/g, '\\$&')}: expected `));
    expect(error.message).toMatch(message);
  });

  it('lists exactly the fields a manual run may set', () => {
    expect([...PAYLOAD_FIELDS].sort()).toEqual(
      [
        'dryRun',
        'fullLookup',
        'graceMinutes',
        'groups',
        'keepDisabled',
        'maxDeletes',
        'namePrefix',
        'protectPrefixes',
        'cloudFormationOwned',
      ].sort(),
    );
  });
});
