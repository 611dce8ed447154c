//go:build tools

// Package tools pins the server this folder builds; see deploy/local/src/installers.ts.
package tools

import _ "github.com/axllent/mailpit"
