// A schedule's identity in an answer: what the sweep, the producers report, the create path and
// restore check before acting on a GetSchedule answer (src/schedule/name.ts).
import { describe, expect, it } from 'vitest';
import { answersFor, scheduleArnIn } from '../../src/schedule/name.ts';

const ARN = 'arn:aws:scheduler:us-east-1:123456789012:schedule/orders/reminder-1';
const answer = { Name: 'reminder-1', GroupName: 'orders', Arn: ARN };

describe('answersFor', () => {
  it('takes the answer of the schedule asked for, by ARN when the ask has one', () => {
    expect(answersFor({ Name: 'reminder-1', GroupName: 'orders', Arn: ARN }, answer)).toBe(true);
    const inDefault = { ...answer, GroupName: 'default', Arn: ARN.replace('orders', 'default') };
    expect(answersFor({ Name: 'reminder-1', Arn: inDefault.Arn }, inDefault)).toBe(true);
    // The ARN expected, built from any ARN of the account and Region (here a KMS key's).
    const kmsKey = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(scheduleArnIn(kmsKey, 'orders', 'reminder-1')).toBe(ARN);
    expect(scheduleArnIn('arn:aws-cn:kms:cn-north-1:123456789012:key/k', 'g', 'n')).toBe(
      'arn:aws-cn:scheduler:cn-north-1:123456789012:schedule/g/n',
    );
    expect(scheduleArnIn('arn:aws:iam::123456789012:role/r', 'g', 'n')).toBeUndefined();
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
    // An ask without the ARN it expects matches nothing, whatever the answer.
    expect(answersFor({ Name: 'reminder-1', GroupName: 'orders' }, answer)).toBe(false);
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
