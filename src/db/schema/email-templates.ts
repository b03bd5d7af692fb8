import type { Updated } from './columns.ts';

// ---- 0027_email_templates: a workspace's override of one e-mail kind (notify/templates/) ----
export interface EmailTemplatesTable {
  tenant_id: string;
  kind: string;
  subject: string;
  body: string;
  updated_at: Updated;
  updated_by: string;
}
