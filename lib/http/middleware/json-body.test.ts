import middy from '@middy/core';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../errors.ts';
import { jsonBody, UnsupportedMediaTypeError, type ParsedBodyEvent } from './json-body.ts';

const run = async (event: Partial<ParsedBodyEvent>) => {
  const handler = middy(async (e: ParsedBodyEvent) => e.parsedBody).use(jsonBody());
  return handler(event as ParsedBodyEvent, {} as never);
};

describe('jsonBody', () => {
  it('parses a JSON object body', async () => {
    expect(await run({ body: '{"a":1}', headers: { 'content-type': 'application/json' } })).toEqual({ a: 1 });
  });
  it('decodes base64 bodies first', async () => {
    expect(await run({ body: Buffer.from('{"b":2}').toString('base64'), isBase64Encoded: true, headers: {} })).toEqual({ b: 2 });
  });
  it('treats an absent or blank body as {}', async () => {
    expect(await run({ headers: {} })).toEqual({});
    expect(await run({ body: '  ', headers: {} })).toEqual({});
  });
  it('accepts +json media types and charset parameters', async () => {
    expect(await run({ body: '{}', headers: { 'Content-Type': 'application/merge-patch+json; charset=utf-8' } })).toEqual({});
  });
  it('refuses invalid JSON, non-objects and other media types', async () => {
    await expect(run({ body: '{', headers: {} })).rejects.toBeInstanceOf(ValidationError);
    await expect(run({ body: '[1]', headers: {} })).rejects.toThrow(/JSON object/);
    await expect(run({ body: 'null', headers: {} })).rejects.toThrow(/JSON object/);
    await expect(run({ body: 'a=b', headers: { 'content-type': 'text/plain' } })).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
  });
  it('refuses bodies over 64 KiB', async () => {
    await expect(run({ body: JSON.stringify({ x: 'y'.repeat(70_000) }), headers: {} })).rejects.toThrow(/larger than/);
  });
});
