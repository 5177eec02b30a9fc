import { STATUS_CODES } from 'node:http';
import type { ServiceResponse } from '../response.js';

/*
 * Encoding answers as HTTP/1.1 response text. Answers are written as one string each; the encoded
 * form of a response object is cached for the current second (the Date header's resolution), so
 * a server answering the same object many times formats it once.
 */

const SAFE_FIELD = /^[^\r\n]*$/;

let dateSecond = -1;
let dateText = '';
/** The Date header, formatted once per second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}

/** The response as text; throws if a header name or value holds CR or LF. */
export function formatResponse(
  res: ServiceResponse,
  method: string,
  close: boolean,
  keepAliveSeconds: number,
): string {
  let head = `HTTP/1.1 ${res.status} ${STATUS_CODES[res.status] ?? 'Status'}\r\nContent-Type: ${res.contentType}\r\nContent-Length: ${Buffer.byteLength(res.body)}\r\nDate: ${httpDate()}\r\n`;
  if (res.headers !== undefined) {
    for (const name in res.headers) {
      const value = res.headers[name];
      // A handler bug must not become header injection.
      if (!SAFE_FIELD.test(name) || !SAFE_FIELD.test(value)) {
        throw new Error(`header ${JSON.stringify(name)} contains CR or LF`);
      }
      head += `${name}: ${value}\r\n`;
    }
  }
  head += close
    ? 'Connection: close\r\n\r\n'
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${keepAliveSeconds}\r\n\r\n`;
  // A HEAD answer carries the length of the body it leaves out.
  return method === 'HEAD' ? head : head + res.body;
}

/** Encoded answers of response objects seen in the current second, with and without close. */
interface EncodedAnswer {
  second: number;
  keepAlive?: string;
  close?: string;
}
const encodedAnswers = new WeakMap<ServiceResponse, EncodedAnswer>();

/** formatResponse, cached per response object for the current second. */
export function responseText(
  res: ServiceResponse,
  method: string,
  close: boolean,
  keepAliveSeconds: number,
): string {
  if (method === 'HEAD') return formatResponse(res, method, close, keepAliveSeconds);
  const second = Math.floor(Date.now() / 1000);
  let e = encodedAnswers.get(res);
  if (e === undefined || e.second !== second) {
    e = { second };
    encodedAnswers.set(res, e);
  }
  if (close) {
    e.close ??= formatResponse(res, method, true, keepAliveSeconds);
    return e.close;
  }
  e.keepAlive ??= formatResponse(res, method, false, keepAliveSeconds);
  return e.keepAlive;
}
