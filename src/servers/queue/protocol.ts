// The queue's contract with any BullMQ producer: job names, their data, and where sessions live.
import * as z from 'zod';
import { RunRequestSchema, SessionRunSchema } from '../core/schemas.js';

export { DEFAULT_QUEUE, RUN_JOB, SESSION_RUN_JOB, sessionKeys } from './names.js';

/** A `run` job is a run request, as `POST /v1/run` takes it. */
export const RunJobSchema = RunRequestSchema;
export const SessionRunJobSchema = SessionRunSchema.extend({ session: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a session id from createSession') });

export type RunJobData = z.infer<typeof RunJobSchema>;
export type SessionRunJobData = z.infer<typeof SessionRunJobSchema>;

