import fs from 'node:fs';
import path from 'node:path';

/** A golden response body: JSON compared as values (jest prints a readable diff), text byte for byte. */
export function golden(name: string): unknown {
  const text = fs.readFileSync(path.join(__dirname, 'golden', name), 'utf8');
  return name.endsWith('.json') ? JSON.parse(text) : text;
}

export function parsed(body: string): unknown {
  return JSON.parse(body);
}
