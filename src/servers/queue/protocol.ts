// The queue's contract with any BullMQ producer: job names, their data, and where sessions live.
import * as z from 'zod';
import { CodeSchema, FilesSchema, LimitsSchema } from '../core/schemas.js';


export { DEFAULT_QUEUE, RUN_JOB, SESSION_RUN_JOB, sessionKeys } from './names.js';

export const RunJobSchema = z.strictObject({ code: CodeSchema, limits: LimitsSchema.optional(), files: FilesSchema.optional() });
export const SessionRunJobSchema = z.strictObject({ session: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a session id from createSession'), code: CodeSchema, limits: LimitsSchema.optional() });

export type RunJobData = z.infer<typeof RunJobSchema>;
export type SessionRunJobData = z.infer<typeof SessionRunJobSchema>;

