/**
 * Answers a CloudFormation custom resource at its pre-signed response URL, as AWS's
 * cfn-response module does: a PUT with an empty content type (the URL is signed without
 * one). A lost answer leaves the stack waiting for an hour, so network errors and 5xx are
 * retried with backoff.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { backoffDelay } from './aws-retry.ts';
import type { CustomResourceResponse } from '../portal/custom-resource.ts';

const ATTEMPTS = 5;

class RetryableResponseError extends Error {
  override readonly name = 'RetryableResponseError';
}

function put(url: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // Pre-signed S3 URLs are https; plain http only reaches a local endpoint.
    const request = url.startsWith('http://') ? httpRequest : httpsRequest;
    const req = request(url, { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve();
        else if (status >= 500 || status === 429) reject(new RetryableResponseError(`the response URL answered ${status}`));
        else reject(new Error(`the response URL answered ${status}`));
      });
    });
    req.on('error', (error) => reject(new RetryableResponseError(error.message)));
    req.setTimeout(10_000, () => req.destroy(new Error('no answer from the response URL within 10 s')));
    req.end(body);
  });
}

export async function sendCustomResourceResponse(responseUrl: string, response: CustomResourceResponse): Promise<void> {
  const body = JSON.stringify(response);
  for (let attempt = 0; ; attempt++) {
    try {
      return await put(responseUrl, body);
    } catch (error) {
      if (!(error instanceof RetryableResponseError) || attempt + 1 >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt)));
    }
  }
}
