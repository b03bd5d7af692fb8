import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.ts';

describe('staff password policy', () => {
  it('accepts a long uncommon pass phrase', () => {
    expect(passwordProblem('correct horse battery')).toBeNull();
    expect(passwordProblem('tangerine atlas 1234')).toBeNull();
  });
  it('refuses short, common, common-with-digits, repeated and numeric passwords', () => {
    expect(passwordProblem('short pass')).toContain('at least 12');
    expect(passwordProblem('1qaz2wsx3edc')).toContain('most common');
    expect(passwordProblem('baseball1234567')).toContain('most common');
    expect(passwordProblem('Password!!2024')).toContain('most common');
    expect(passwordProblem('aaaaaaaaaaaaaa')).toContain('most common');
    expect(passwordProblem('123456789012345')).toContain('most common');
    expect(passwordProblem('x'.repeat(257))).toContain('longer than 256');
  });
  it('refuses the e-mail name or the workspace name', () => {
    expect(passwordProblem('dana.lastname1', { email: 'dana.lastname@acme.test' })).toContain('e-mail name');
    expect(passwordProblem('acme-it-services', { workspace: 'acme-it-services' })).toContain('workspace name');
  });
  it('counts characters, not bytes', () => {
    expect(passwordProblem('ééééé ñññ ü')).toContain('at least 12');
  });
});
