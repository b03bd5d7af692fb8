import type { Updated } from './columns.ts';

// ---- 0026_branding: the workspace's logo, colour, sender name and reply-to (engine/branding.ts) ----
export type LogoType = 'image/png' | 'image/jpeg' | 'image/webp';
export interface WorkspaceBrandingTable {
  tenant_id: string;
  primary_color: string | null;
  sender_name: string | null;
  reply_to: string | null;
  logo: Buffer | null;
  logo_type: LogoType | null;
  logo_sha256: string | null;
  updated_by: string;
  updated_at: Updated;
}
