// Names kept from tfcompute before templates, when it served one Terraform
// configuration: the template that configuration is served as now (TF_CWD
// alone, see core/templates/catalogue.ts), which the templates migration
// gives every stack recorded before templates (core/store/migrations.ts).
// Nothing else names it: every stack has its template once migrated.
export const LEGACY_TEMPLATE = 'ec2instance';
