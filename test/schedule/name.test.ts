// A schedule's identity in an answer: what the sweep, the producers report, the create path and
// restore check before acting on a GetSchedule answer (src/schedule/name.ts).
import { describe, expect, it } from 'vitest';
import { answersFor } from '../../src/schedule/name.ts';

const ARN = 'arn:aws:scheduler:us-east-1:123456789012:schedule/orders/reminder-1';
const answer = { Name: 'reminder-1', GroupName: 'orders', Arn: ARN };

describe('answersFor', () => {
  it('takes the answer of the schedule asked for, by ARN when the ask has one', () => {
    expect(answersFor({ Name: 'reminder-1', GroupName: 'orders', Arn: ARN }, answer)).toBe(true);
    expect(answersFor({ Name: 'reminder-1', GroupName: 'orders' }, answer)).toBe(true);
    const inDefault = { ...answer, GroupName: 'default', Arn: ARN.replace('orders', 'default') };
    expect(answersFor({ Name: 'reminder-1' }, inDefault)).toBe(true);
  });

  it('refuses another name, group, account or Region, and an answer missing any of them', () => {
    const asked = { Name: 'reminder-1', GroupName: 'orders', Arn: ARN };
    for (const other of [
      { ...answer, Name: 'reminder-2' },
      { ...answer, GroupName: 'default' },
      { ...answer, Arn: ARN.replace('123456789012', '222222222222') },
      { ...answer, Arn: ARN.replace('us-east-1', 'eu-west-1') },
      { ...answer, Name: undefined },
      { ...answer, GroupName: undefined },
      { ...answer, Arn: undefined },
    ])
      expect({ other, ok: answersFor(asked, other) }).toEqual({ other, ok: false });
    // Without the ARN asked for, the answer's must still end in this group and name.
    expect(answersFor({ Name: 'reminder-1', GroupName: 'orders' }, { ...answer, Arn: undefined })).toBe(
      false,
    );
    expect(
      answersFor(
        { Name: 'reminder-1', GroupName: 'orders' },
        { ...answer, Arn: ARN.replace('orders/', 'other/') },
      ),
    ).toBe(false);
    // An ask without a name asks for nothing.
    expect(answersFor({ GroupName: 'orders' }, { ...answer, Name: undefined })).toBe(false);
    expect(answersFor({ Name: '', GroupName: 'orders' }, { ...answer, Name: '' })).toBe(false);
  });
});
