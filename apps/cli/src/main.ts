#!/usr/bin/env node
console.log('cbnn: not wired yet');
