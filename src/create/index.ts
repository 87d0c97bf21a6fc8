// The create path's public surface for application code: schedules that always delete themselves.
export { type CreateConfig, readCreateConfig } from './config.ts';
export {
  type CreateDeps,
  type CreatedSchedule,
  createOneTimeSchedule,
  createRecurringSchedule,
} from './create.ts';
export { CreateFailure, type CreateFailureReason, CreateScheduleError } from './errors.ts';
export type { CreateInput, RecurringInput, RetryInput, ScheduleDefaults } from './plan.ts';
