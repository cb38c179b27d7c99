#!/usr/bin/env node
// Runs the TypeScript sources through tsx, so `npm install` is all the set-up there is.
import { register } from 'tsx/esm/api'

register()
await import('../src/main.ts')
