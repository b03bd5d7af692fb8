// The staff password policy (issue #8 item 6; ASVS 2.1.1, 2.1.7, NIST 800-63B 5.1.1.2): at least 12
// characters, at most 256, and not one of the 10,000 most common passwords — nor one of them with only
// digits or symbols added around it ("password123456"). No composition rules (they make passwords
// harder to remember, not to guess). The list ships in the repo (common-passwords.txt: the top 10,000 of
// the frequency-ordered list in @zxcvbn-ts/language-common 4.1.3, MIT, from Dropbox's zxcvbn) so the
// check works on a server without internet access.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 256;

let common: Set<string> | null = null;
function commonPasswords(): Set<string> {
  if (!common) {
    const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'common-passwords.txt');
    common = new Set(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim().toLowerCase())
        .filter(Boolean),
    );
  }
  return common;
}

/** Null when the password may be used; otherwise what is wrong with it and what to do, for the person choosing it. */
export function passwordProblem(password: string, context: { email?: string; workspace?: string } = {}): string | null {
  const length = [...password.normalize('NFKC')].length;
  if (length < MIN_PASSWORD_LENGTH)
    return `the password has ${length} characters; use at least ${MIN_PASSWORD_LENGTH} (a few unrelated words make a long password easy to remember)`;
  if (length > MAX_PASSWORD_LENGTH) return `the password is longer than ${MAX_PASSWORD_LENGTH} characters`;
  const lower = password.normalize('NFKC').toLowerCase();
  const list = commonPasswords();
  const core = lower.replace(/^[\d\W_]+|[\d\W_]+$/g, '');
  if (list.has(lower) || (core.length > 0 && list.has(core)) || /^(.)\1*$/.test(lower) || /^\d+$/.test(lower))
    return 'that password is one of the most common passwords (or one with digits added); choose one that is not easily guessed';
  const local = context.email?.split('@')[0]?.toLowerCase();
  if ((local && local.length >= 3 && core === local) || (context.workspace && core === context.workspace.toLowerCase()))
    return 'the password must not be your e-mail name or the workspace name';
  return null;
}
