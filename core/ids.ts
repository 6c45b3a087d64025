// Stack and job ids. A stack id is also its Terraform workspace name, so
// the alphabet is one every backend accepts and no shell or path can misread.
import { customAlphabet } from 'nanoid';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
// 36^16 ≈ 8e24 ids: a collision among a billion resources has odds near 1e-8.
const LENGTH = 16;

export const ID_PATTERN = /^[0-9a-z]{16}$/;
export const ID_PATTERN_SOURCE = '^[0-9a-z]{16}$';

const generate = customAlphabet(ALPHABET, LENGTH);

export function newStackId(): string {
  return generate();
}

// BullMQ refuses custom job ids that parse as integers; a leading letter rules
// that out while keeping the same shape as stack ids.
export function newJobId(): string {
  return `j${generate().slice(1)}`;
}

// Where a stack's Terraform state lives in the S3 backend's bucket: the
// `workspace_key_prefix` of its own, so Terraform, which lists every
// workspace under the prefix on each apply and destroy, finds one there, and
// a job costs the same at a hundred stacks or a hundred thousand. It is under
// a root of its own, beside the backend's configured prefix (`env:` unless
// set), so the listings of stacks from before it, whose state stays under
// that prefix, do not grow with the new ones either. Recorded on the stack
// when it is created (see core/store/lua/create-7.lua).
export function stackStatePrefix(id: string): string {
  return `tfcompute-stacks/${id}`;
}

// Webhook and delivery ids: the same shape, their own first letter.
export function newWebhookId(): string {
  return `w${generate().slice(1)}`;
}
export function newDeliveryId(): string {
  return `d${generate().slice(1)}`;
}

// Ids of tokens made through the API.
export function newTokenId(): string {
  return `t${generate().slice(1)}`;
}

// Ids of policies.
export function newPolicyId(): string {
  return `p${generate().slice(1)}`;
}
