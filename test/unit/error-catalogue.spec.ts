import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorReason } from '../../src/domain/errors';

describe('error catalogue', () => {
  it('documents every reason in docs/errors.md, so callers can look up what they receive', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'errors.md'), 'utf8');
    const undocumented = Object.values(ErrorReason).filter((reason) => !doc.includes(`| \`${reason}\` |`));
    expect(undocumented).toEqual([]);
  });
});
