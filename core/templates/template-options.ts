// template.json: what a template's variables file cannot say. Optional,
// beside the template's .tf files.
import { z } from 'zod';

export const TemplateOptionsFile = z.strictObject({
  description: z.string().optional(),
  variables: z
    .record(
      z.string(),
      z.strictObject({
        // false: operator-set (TF_VAR_<name> in the workers' environment),
        // never part of the API.
        expose: z.boolean().optional(),
        enum: z
          .array(z.union([z.string(), z.number(), z.boolean()]))
          .min(1)
          .optional(),
        description: z.string().optional(),
        example: z.unknown().optional(),
      }),
    )
    .optional(),
});
export type TemplateOptions = z.infer<typeof TemplateOptionsFile>;
export type TemplateVariableOption = NonNullable<TemplateOptions['variables']>[string];
