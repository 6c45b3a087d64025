// Templates: Terraform root modules served as stack types, their inputs
// typed from their variables.
export {
  Catalogue,
  loadCatalogue,
  STACK_ID_VARIABLE,
  type Template,
  type TemplateInput,
} from './catalogue.ts';
export { TEMPLATE_NAME, type TemplateSource } from './template-files.ts';
export { canonicalJson } from './input-schema.ts';
