-- Portal link secrets sealed (issue #8 item 9). Each workspace's portal secret signs its client portal and
-- update-method links. It was kept in clear in the tenants directory, which is readable without a tenant
-- context: anyone reading that table could forge links. It is now sealed with the instance key
-- (db/crypto.ts, bound to the tenant id) in portal_secret_sealed; the clear column is emptied as each row is
-- sealed. SQL cannot seal (the key never enters the database), so the rows are sealed by Settle itself:
-- every `settle start` seals any row still in clear, and reading a secret seals it first
-- (db/portal-secret.ts). The secret's value never changes, so every link already sent keeps working.
ALTER TABLE tenants ADD COLUMN portal_secret_sealed text;
-- A new workspace gets its secret generated and sealed by Settle on first use, never in clear.
ALTER TABLE tenants ALTER COLUMN portal_secret DROP DEFAULT;
ALTER TABLE tenants ALTER COLUMN portal_secret DROP NOT NULL;
