// Templates: Terraform root modules served as stack types, their inputs
// typed from their variables.
export {
  Catalogue,
  loadCatalogue,
  STACK_ID_VARIABLE,
  TEMPLATE_NAME,
  type Template,
  type TemplateInput,
  type TemplateSource,
} from './catalogue.ts';
export { canonicalJson } from './input-schema.ts';
