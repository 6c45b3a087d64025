// The job actions, by the name a job carries.
import type { JobAction } from '../../../core/schemas/index.ts';
import type { Action } from './action.ts';
import { create } from './create.ts';
import { destroy } from './delete.ts';
import { plan } from './plan.ts';
import { update } from './update.ts';

export const ACTIONS: Record<JobAction, Action> = { create, update, delete: destroy, plan };

export type { Action, ActionContext, ActionSuccess } from './action.ts';
