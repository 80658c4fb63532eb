// Package guardrails owns what GitHub enforces: on one repository, the
// default branch takes changes only through pull requests with passing,
// up-to-date status checks and an approving review; optionally a deploy
// branch that only named automation may move; optionally webhooks that tell
// a deploy coordinator about pushes and statuses (the flow of the seed's
// second document; guardrails.go). And in the organisation, the team whose
// members' forks the agents may build (team.go).
package guardrails

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-github/sdk/v6/go/github"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"mtrlz.dev/ci-infra/components/adopt"
	"mtrlz.dev/ci-infra/components/ident"
	"mtrlz.dev/ci-infra/components/label"
)

// TypeToken is the Pulumi type of the component.
const TypeToken = "ci-infra:github:RepositoryGuardrails"

// WebhookEvents are the events a webhook may ask for: what a deploy
// coordinator needs, and nothing that leaks more of the repository.
var WebhookEvents = []string{"push", "status", "pull_request", "pull_request_review", "check_run", "check_suite", "deployment", "deployment_status", "release"}

var (
	// An app pusher is its GraphQL node ID.
	appActor = regexp.MustCompile(`^[A-Za-z0-9_=-]{12,}$`)
)

// Webhook tells an HTTPS endpoint about repository events.
type Webhook struct {
	// URL must be https.
	URL string
	// Events the endpoint receives, from WebhookEvents.
	Events []string
	// Secret signs every delivery (X-Hub-Signature-256); it must be a
	// secret input.
	Secret pulumi.StringInput
}

// Args configures the guardrails of one repository.
type Args struct {
	// Repository is the repository's name in the provider's organisation.
	Repository string
	// DefaultBranch is protected, e.g. "main".
	DefaultBranch string
	// RequiredChecks are status check contexts that must pass, e.g.
	// "buildkite/test". At least one.
	RequiredChecks []string
	// RequiredApprovals is the number of approving reviews; at least 1
	// (the default when 0).
	RequiredApprovals int
	// DeployBranch, when set, may be pushed to only by DeployPushers.
	DeployBranch string
	// DeployPushers are the automation allowed to move DeployBranch: "/login"
	// for a user, or an app's node ID.
	DeployPushers []string
	// Webhooks to create.
	Webhooks []Webhook
	// ImportExisting imports the branch protection rules, which exist
	// already (another stack made them), by their IDs, <repository>:<pattern>,
	// instead of creating them: GitHub refuses a second rule for a pattern.
	ImportExisting bool
}

// RuleID is the ID GitHub's provider imports a branch protection rule by.
func RuleID(repository, pattern string) string { return repository + ":" + pattern }

// Guardrails is the protection of one repository.
type Guardrails struct {
	pulumi.ResourceState
}

func (a *Args) defaults() {
	if a.RequiredApprovals == 0 {
		a.RequiredApprovals = 1
	}
}

// Validate reports every problem of the arguments at once.
func (a Args) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	validateRepository(a.Repository, bad)
	if !ident.IsBranch(a.DefaultBranch) {
		bad("default branch %q is not a branch name", a.DefaultBranch)
	}
	if len(a.RequiredChecks) == 0 {
		bad("at least one required status check is needed: without one, untested code can merge")
	}
	for _, c := range a.RequiredChecks {
		if strings.TrimSpace(c) == "" {
			bad("a required status check is empty")
		}
	}
	if a.RequiredApprovals < 0 || a.RequiredApprovals > 6 {
		bad("required approvals must be 1 to 6 (0 means 1), got %d", a.RequiredApprovals)
	}
	switch {
	case a.DeployBranch == "" && len(a.DeployPushers) > 0:
		bad("deploy pushers are set but no deploy branch")
	case a.DeployBranch != "" && !ident.IsBranch(a.DeployBranch):
		bad("deploy branch %q is not a branch name", a.DeployBranch)
	case a.DeployBranch != "" && a.DeployBranch == a.DefaultBranch:
		bad("deploy branch %q must differ from the default branch", a.DeployBranch)
	case a.DeployBranch != "" && len(a.DeployPushers) == 0:
		bad("deploy branch %q needs at least one pusher (the automation that moves it)", a.DeployBranch)
	}
	for _, p := range a.DeployPushers {
		isUser := strings.HasPrefix(p, "/") && ident.IsLogin(p[1:])
		if !isUser && !appActor.MatchString(p) {
			bad("deploy pusher %q must be /login for a user or an app's node ID", p)
		}
	}
	validateWebhooks(a.Webhooks, bad)
	return errors.Join(errs...)
}

// validateRepository reports a repository name GitHub would refuse.
func validateRepository(name string, bad func(format string, args ...any)) {
	if !ident.IsRepositoryName(name) {
		bad("repository name %q must be %s", name, ident.RepositoryNameRule)
	}
}

// validateWebhooks reports each webhook's problems through bad.
func validateWebhooks(ws []Webhook, bad func(format string, args ...any)) {
	for i, w := range ws {
		if err := ValidateWebhookURL(w.URL); err != nil {
			bad("webhook %d: %v", i, err)
		}
		if len(w.Events) == 0 {
			bad("webhook %d: needs at least one event", i)
		}
		for _, e := range w.Events {
			if !slices.Contains(WebhookEvents, e) {
				bad("webhook %d: event %q is not one of %s", i, e, strings.Join(WebhookEvents, ", "))
			}
		}
		if w.Secret == nil {
			bad("webhook %d: needs a secret to sign deliveries", i)
		}
	}
}

// ValidateWebhookURL accepts absolute https URLs only: deliveries carry
// repository data and a signature that must not travel in clear text.
func ValidateWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("URL %q is not an absolute URL", raw)
	}
	if u.Scheme != "https" {
		return fmt.Errorf("URL %q must use https", raw)
	}
	if u.User != nil {
		return fmt.Errorf("URL %q must not carry credentials; use the webhook secret", raw)
	}
	return nil
}

// New declares the guardrails of one repository.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Guardrails, error) {
	args.defaults()
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("guardrails %s: %w", name, err)
	}
	g := &Guardrails{}
	if err := ctx.RegisterComponentResource(TypeToken, name, g, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(g)
	existing := func(pattern string) string {
		if !args.ImportExisting {
			return ""
		}
		return RuleID(args.Repository, pattern)
	}

	if _, err := github.NewBranchProtection(ctx, label.Name(name, "default-branch"), &github.BranchProtectionArgs{
		RepositoryId: pulumi.String(args.Repository),
		Pattern:      pulumi.String(args.DefaultBranch),
		RequiredStatusChecks: github.BranchProtectionRequiredStatusCheckArray{
			&github.BranchProtectionRequiredStatusCheckArgs{
				// Strict: the branch must be up to date with the base, so
				// the checks ran on what will actually be merged.
				Strict:   pulumi.Bool(true),
				Contexts: pulumi.ToStringArray(args.RequiredChecks),
			},
		},
		RequiredPullRequestReviews: github.BranchProtectionRequiredPullRequestReviewArray{
			&github.BranchProtectionRequiredPullRequestReviewArgs{
				RequiredApprovingReviewCount: pulumi.Int(args.RequiredApprovals),
				DismissStaleReviews:          pulumi.Bool(true),
			},
		},
		EnforceAdmins:     pulumi.Bool(true),
		AllowsForcePushes: pulumi.Bool(false),
		AllowsDeletions:   pulumi.Bool(false),
	}, parent, adopt.Option(existing(args.DefaultBranch))); err != nil {
		return nil, err
	}

	if args.DeployBranch != "" {
		if _, err := github.NewBranchProtection(ctx, label.Name(name, "deploy-branch"), &github.BranchProtectionArgs{
			RepositoryId: pulumi.String(args.Repository),
			Pattern:      pulumi.String(args.DeployBranch),
			RestrictPushes: github.BranchProtectionRestrictPushArray{
				&github.BranchProtectionRestrictPushArgs{
					PushAllowances:  pulumi.ToStringArray(args.DeployPushers),
					BlocksCreations: pulumi.Bool(true),
				},
			},
			// Admins too: a commit made on deploy by hand is the failure the
			// seed's second document spends a section undoing.
			EnforceAdmins:     pulumi.Bool(true),
			AllowsForcePushes: pulumi.Bool(false),
			AllowsDeletions:   pulumi.Bool(false),
		}, parent, adopt.Option(existing(args.DeployBranch))); err != nil {
			return nil, err
		}
	}

	if err := declareWebhooks(ctx, name, args.Repository, args.Webhooks, parent); err != nil {
		return nil, err
	}

	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{}); err != nil {
		return nil, err
	}
	return g, nil
}

// declareWebhooks declares a repository's signed JSON webhooks, named
// <name>-webhook-<i>.
func declareWebhooks(ctx *pulumi.Context, name, repository string, ws []Webhook, parent pulumi.ResourceOption) error {
	for i, w := range ws {
		if _, err := github.NewRepositoryWebhook(ctx, label.Name(name, fmt.Sprintf("webhook-%d", i)), &github.RepositoryWebhookArgs{
			Repository: pulumi.String(repository),
			Active:     pulumi.Bool(true),
			Events:     pulumi.ToStringArray(w.Events),
			Configuration: &github.RepositoryWebhookConfigurationArgs{
				Url:         pulumi.String(w.URL),
				ContentType: pulumi.String("json"),
				InsecureSsl: pulumi.Bool(false),
				Secret:      pulumi.ToSecret(w.Secret).(pulumi.StringOutput),
			},
		}, parent); err != nil {
			return err
		}
	}
	return nil
}

// WebhooksTypeToken is the Pulumi type of a repository's webhooks declared
// apart from its guardrails: by the stack that holds their secret (the
// ci-infra-secrets stack), so that the stack pull requests preview holds
// none.
const WebhooksTypeToken = "ci-infra:github:RepositoryWebhooks"

// WebhooksArgs are one repository's webhooks.
type WebhooksArgs struct {
	Repository string
	Webhooks   []Webhook
}

// Validate reports every problem of the arguments at once.
func (a WebhooksArgs) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	validateRepository(a.Repository, bad)
	if len(a.Webhooks) == 0 {
		bad("no webhooks")
	}
	validateWebhooks(a.Webhooks, bad)
	return errors.Join(errs...)
}

// Webhooks is a repository's webhooks.
type Webhooks struct {
	pulumi.ResourceState
}

// NewWebhooks declares a repository's webhooks.
func NewWebhooks(ctx *pulumi.Context, name string, args WebhooksArgs, opts ...pulumi.ResourceOption) (*Webhooks, error) {
	if err := args.Validate(); err != nil {
		return nil, fmt.Errorf("webhooks %s: %w", name, err)
	}
	w := &Webhooks{}
	if err := ctx.RegisterComponentResource(WebhooksTypeToken, name, w, opts...); err != nil {
		return nil, err
	}
	if err := declareWebhooks(ctx, name, args.Repository, args.Webhooks, pulumi.Parent(w)); err != nil {
		return nil, err
	}
	if err := ctx.RegisterResourceOutputs(w, pulumi.Map{}); err != nil {
		return nil, err
	}
	return w, nil
}
