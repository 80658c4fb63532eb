// Package fakecloud owns the stand-in for AWS and GitHub that the engine
// tests run the program against: a Pulumi resource provider (served by
// internal/testkit/testplugins/fakecloud as pulumi-resource-aws and
// pulumi-resource-github) that checks, diffs, creates, reads, updates and
// deletes against a state directory, answers with the IDs and outputs of
// internal/cloudmodel (as the offline plan's mocks do), and refuses what
// the real cloud refuses: a name an account or the world holds once
// (claims.go), a read the run's role may not make (authorize.go).
//
// It is not AWS: it knows no CloudFormation template and no eventual
// consistency. What it proves is that the real Pulumi engine can drive the
// program through preview, up, import and destroy, and that the program's
// names do not collide.
package fakecloud

import "mtrlz.dev/ci-infra/internal/cloudmodel"

// Place is where a resource lives (cloudmodel.Place): the fake cloud keys
// its state by it.
type Place = cloudmodel.Place
