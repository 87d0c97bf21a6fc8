// The census payload: scheduled ticks and empty payloads start a census; the census's own
// continuation is read field by field, and anything else is rejected with the field named.
import { describe, expect, it } from 'vitest';
import { type CensusContinuation, MAX_INVOCATIONS, parseCensusEvent } from '../../src/census/payload.ts';
import { InputError } from '../../src/errors.ts';
import { scheduledEvent } from '../support/scheduled-event.ts';

/** A continuation as Lambda delivers it: JSON text, parsed, so "__proto__" is an own key. */
function continuationJson(overrides: Record<string, unknown> = {}, progress: Record<string, unknown> = {}) {
  return JSON.stringify({
    continuation: {
      runId: '6f1c2c1e-0b7a-4d52-9c51-2d1f4b8e9a10',
      invocation: 2,
      startedAt: '2025-06-15T12:00:00.000Z',
      nextToken: 'eyJ2IjoxfQ',
      progress: {
        groups: { default: { ENABLED: 180, DISABLED: 20 } },
        pages: 2,
        listRequests: 2,
        durationSeconds: 1.5,
        ...progress,
      },
      ...overrides,
    },
  });
}

const parse = (json: string) => parseCensusEvent(JSON.parse(json));

function continuationOf(json: string): CensusContinuation {
  const event = parse(json);
  if (event.kind !== 'continuation') throw new Error('expected a continuation');
  return event.continuation;
}

describe('parseCensusEvent', () => {
  it.each([
    ['nothing', undefined],
    ['an empty object', {}],
    ['a scheduled event', scheduledEvent()],
  ])('starts a census for %s', (_label, event) => {
    expect(parseCensusEvent(event)).toEqual({ kind: 'start' });
  });

  it('reads a continuation with every field typed', () => {
    const continuation = continuationOf(continuationJson());

    expect(continuation).toMatchObject({
      runId: '6f1c2c1e-0b7a-4d52-9c51-2d1f4b8e9a10',
      invocation: 2,
      nextToken: 'eyJ2IjoxfQ',
      progress: { pages: 2, listRequests: 2, durationSeconds: 1.5 },
    });
    expect({ ...continuation.progress.groups.default }).toEqual({ ENABLED: 180, DISABLED: 20 });
  });

  it('keeps a group named "__proto__" as a group, with its count, on an object without a prototype', () => {
    const json = continuationJson(
      {},
      { groups: JSON.parse('{"__proto__": {"ENABLED": 7}, "constructor": {"DISABLED": 3}}') },
    );

    const { groups } = continuationOf(json).progress;

    expect(Object.keys(groups)).toEqual(['__proto__', 'constructor']);
    expect(Object.getPrototypeOf(groups)).toBeNull();
    expect(Object.entries(groups).map(([group, states]) => [group, { ...states }])).toEqual([
      ['__proto__', { ENABLED: 7 }],
      ['constructor', { DISABLED: 3 }],
    ]);
  });

  it.each([
    ['an unknown payload field', '{"dryRun": true}', 'dryRun'],
    [
      'a scheduled event with an extra field',
      '{"source": "aws.events", "detail-type": "Scheduled Event", "dryRun": true}',
      'source, detail-type, dryRun',
    ],
    ['a continuation beside another field', `{"full": true, ${continuationJson().slice(1)}`, 'full'],
    ['an unknown continuation field', continuationJson({ cursor: 'x' }), 'continuation.cursor'],
    ['a missing continuation field', continuationJson({ nextToken: undefined }), 'continuation.nextToken'],
    ['an empty NextToken', continuationJson({ nextToken: '' }), 'continuation.nextToken'],
    ['a run id with spaces', continuationJson({ runId: 'run 1' }), 'continuation.runId'],
    ['a start that is no date', continuationJson({ startedAt: 'yesterday' }), 'continuation.startedAt'],
    ['invocation 1', continuationJson({ invocation: 1 }), 'continuation.invocation'],
    [
      'too many invocations',
      continuationJson({ invocation: MAX_INVOCATIONS + 1 }),
      'continuation.invocation',
    ],
    ['invocation as text', continuationJson({ invocation: '2' }), 'continuation.invocation'],
    ['a negative page count', continuationJson({}, { pages: -1 }), 'continuation.progress.pages'],
    [
      'a fractional request count',
      continuationJson({}, { listRequests: 1.5 }),
      'continuation.progress.listRequests',
    ],
    [
      'a negative duration',
      continuationJson({}, { durationSeconds: -2 }),
      'continuation.progress.durationSeconds',
    ],
    ['an unknown progress field', continuationJson({}, { total: 200 }), 'continuation.progress.total'],
    ['groups as a list', continuationJson({}, { groups: [] }), 'continuation.progress.groups'],
    [
      'a group name Scheduler would refuse',
      continuationJson({}, { groups: { 'bad group': { ENABLED: 1 } } }),
      'continuation.progress.groups.bad group',
    ],
    [
      'a group without states',
      continuationJson({}, { groups: { orders: {} } }),
      'continuation.progress.groups.orders',
    ],
    [
      'a state that is no state',
      continuationJson({}, { groups: { orders: { enabled: 1 } } }),
      'continuation.progress.groups.orders.enabled',
    ],
    [
      'a count as text',
      continuationJson({}, { groups: { orders: { ENABLED: '12' } } }),
      'continuation.progress.groups.orders.ENABLED',
    ],
  ])('rejects %s, naming the field', (_label, json, field) => {
    const read = () => parse(json);

    expect(read).toThrow(InputError);
    expect(read).toThrow(expect.objectContaining({ field }));
  });

  it.each([
    ['a list', []],
    ['a string', 'go'],
  ])('rejects %s as the payload', (_label, event) => {
    expect(() => parseCensusEvent(event)).toThrow(expect.objectContaining({ field: 'census payload' }));
  });
});
