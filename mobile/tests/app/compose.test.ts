import { actionText, composeText } from '../../src/state/compose';

describe('composeText', () => {
  it('sends plain text trimmed, and nothing for a blank draft', () => {
    expect(composeText('  hello Arona  ')).toEqual({ content: 'hello Arona' });
    expect(composeText('   ')).toBeNull();
  });

  it('turns /me into the action convention, tidying the spaces after it', () => {
    expect(composeText('/me waves')).toEqual({ content: '/me waves' });
    expect(composeText('/me \t  waves')).toEqual({ content: '/me waves' });
  });

  it('refuses a /me with nothing to do, but leaves words that merely start with /me alone', () => {
    expect(composeText('/me')).toHaveProperty('problem');
    expect(composeText('/me   ')).toHaveProperty('problem');
    expect(composeText('/mega sale')).toEqual({ content: '/mega sale' });
  });
});

describe('actionText', () => {
  it('reads the action of a "/me " content and nothing else', () => {
    expect(actionText('/me waves')).toBe('waves');
    expect(actionText('/mewaves')).toBeNull();
    expect(actionText('hello /me waves')).toBeNull();
  });
});
