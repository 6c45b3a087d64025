// One zod schema per payload, by audience: the domain, HTTP requests,
// problem+json, and queue payloads. The API validates requests with these, the
// OpenAPI document is generated from them (their `.meta()`), and the worker
// re-parses job data with them, so the three can never disagree.
export * from './access.ts';
export * from './identifiers.ts';
export * from './stacks.ts';
export * from './jobs.ts';
export * from './plans.ts';
export * from './http.ts';
export * from './problem.ts';
export * from './queue-payloads.ts';
export * from './webhooks.ts';
export * from './projects.ts';
export * from './audit.ts';
export * from './policies.ts';
export * from './policy-results.ts';
