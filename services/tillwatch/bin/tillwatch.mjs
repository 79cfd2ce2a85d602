#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader: internal packages ship their source.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
