// Package policydoc owns the JSON shape of AWS policy documents (identity,
// bucket and trust policies), so that every policy in the program is built
// from typed statements rather than hand-written JSON strings.
package policydoc

import (
	"encoding/json"
	"fmt"
)

// Document is an AWS IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document. Principal, Action and Resource
// are kept as `any` because AWS accepts a string, a list or a map there.
type Statement struct {
	Sid       string   `json:"Sid,omitempty"`
	Effect    string   `json:"Effect"`
	Principal any      `json:"Principal,omitempty"`
	Action    []string `json:"Action"`
	Resource  []string `json:"Resource,omitempty"`
	// NotResource matches every resource but these (a Deny of all but).
	NotResource []string                  `json:"NotResource,omitempty"`
	Condition   map[string]map[string]any `json:"Condition,omitempty"`
}

// New returns a document of the current policy language version.
func New(statements ...Statement) Document {
	return Document{Version: "2012-10-17", Statement: statements}
}

// JSON renders the document.
func (d Document) JSON() (string, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return "", fmt.Errorf("policy document: %w", err)
	}
	return string(b), nil
}
