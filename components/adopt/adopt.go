// Package adopt owns how a component takes over a resource that already
// exists (built by hand, or surviving from an earlier state) instead of
// creating a new one: Pulumi's import option, set from the stack's `adopt`
// config.
//
// It has no test binary of its own: stacks' TestAdoptionImportsExactlyTheConfiguredResources
// proves both branches (an ID is imported, an empty one creates) on prod's
// real resources, and the engine suite's adoption tests prove the import
// itself against the Pulumi CLI.
package adopt

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Option imports the existing resource with the given ID on the first
// `pulumi up`, or does nothing when id is empty. Pulumi refuses the import
// if the declared inputs differ from the existing resource, so an adoption
// can never silently change what it takes over.
func Option(id string) pulumi.ResourceOption {
	if id == "" {
		return pulumi.Import(nil)
	}
	return pulumi.Import(pulumi.ID(id))
}
