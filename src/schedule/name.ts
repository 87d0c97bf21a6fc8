// Schedule and schedule group names as the Scheduler API model constrains them: Name, GroupName and
// NamePrefix are 1-64 characters of `^[0-9a-zA-Z-_.]+$` (botocore scheduler/2021-06-30/service-2.json,
// the model @aws-sdk/client-scheduler is generated from). One pattern for every reader of a name:
// settings, payloads, tombstone keys, tallies and the emulator's options. src/create/constraints.ts
// keeps the model's members as a table of length and pattern apart, to name the member it checks.

/** A whole schedule or group name, or a name prefix: 1-64 of 0-9 a-z A-Z - _ . */
export const NAME_PATTERN = /^[0-9a-zA-Z\-_.]{1,64}$/;

/** NAME_PATTERN in words, for errors that name a field and its expected form. */
export const NAME_FORM = '1-64 characters of 0-9 a-z A-Z - _ .';

/**
 * `.` and `..`: names the pattern allows that are dot segments in a request path
 * (`/schedules/{Name}`), which URL parsers and SigV4 remove. How AWS routes them is undocumented
 * (the project's choice: docs/guarantees.md, "How the sweeper decides").
 */
export function isDotSegment(name: string | undefined): boolean {
  return name === '.' || name === '..';
}
