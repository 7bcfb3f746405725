#!/usr/bin/env node
// Installed entry point: runs the compiled CLI.
import '../dist/cli/main.js';
