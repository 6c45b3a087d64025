// What a job records of the policies evaluated on its plan (see
// policies.ts for the policies themselves): apart, so that the job's schema
// (domain.ts) can hold it without the policies' own schemas.
import { z } from 'zod';

const Timestamp = z.iso.datetime();

export const POLICY_ID_PATTERN_SOURCE = '^p[0-9a-z]{15}$';

export const PolicyId = z
  .string()
  .regex(new RegExp(POLICY_ID_PATTERN_SOURCE))
  .meta({ description: 'Policy id: "p" and 15 characters of 0-9 and a-z.', example: 'p4w8e2r6t0y3u5i7' });
export const PolicyIdParams = z.object({ policyId: PolicyId });

export const ENFORCEMENTS = ['advisory', 'soft-mandatory', 'hard-mandatory'] as const;
export const Enforcement = z.enum(ENFORCEMENTS).meta({
  id: 'PolicyEnforcement',
  description:
    '`advisory`: a failure is recorded and shown, and the plan is applied. `soft-mandatory`: a failure ' +
    'stops the job in `policy_failed` until an admin of the project overrides it ' +
    '(`POST /api/jobs/{jobId}/override`) or someone discards it. `hard-mandatory`: a failure fails the job; ' +
    'nothing is applied.',
});
export type Enforcement = z.infer<typeof Enforcement>;

export const PolicyResult = z
  .object({
    policy: z.object({ id: PolicyId, name: z.string() }),
    enforcement: Enforcement,
    passed: z.boolean(),
    message: z
      .string()
      .meta({ description: "The policy's message when it failed (or the evaluation error); empty when it passed." }),
  })
  .meta({ id: 'PolicyResult' });
export type PolicyResult = z.infer<typeof PolicyResult>;

export const POLICY_STATUSES = ['passed', 'advisory_failed', 'failed', 'overridden'] as const;
export const JobPolicy = z
  .object({
    status: z.enum(POLICY_STATUSES).meta({
      description:
        '`passed`: every policy passed; `advisory_failed`: only advisory ones failed (applied); ' +
        '`failed`: a mandatory one failed; `overridden`: a soft-mandatory failure was overridden.',
    }),
    results: z.array(PolicyResult),
    override: z.object({ by: z.string(), reason: z.string(), at: Timestamp }).optional(),
  })
  .meta({ id: 'JobPolicy', description: 'The policies evaluated on the plan of the job, when any applied to it.' });
export type JobPolicy = z.infer<typeof JobPolicy>;
