package stacks

// Logical names of the program's components, written once: they name the
// resources in Build (every child is <component>-<role>, label.Name) and
// the keys of the `adopt` config. (internal/confighints names a few
// resources for the drift report; a stacks test checks each against the
// plan.)
const (
	nameNetwork      = "network"
	nameConfig       = "config"
	nameAgentPolicy  = "agent-policy"
	nameSecrets      = "secrets"
	nameSecretsLogs  = "secrets-logs"
	nameDownloads    = "downloads"
	nameDownloadSite = "downloads-site"
	nameZone         = "internal-zone"
	nameAgents       = "agents"
	nameBuilders     = "builders"
	nameDeployers    = "deploy-agents"
	// The burst builders hold no state worth adopting.
	nameBuildersBurst = "builders-burst"
	nameTeam          = "trusted-team"
	nameCIAccess      = "ci-access"
	// The instance roles' boundaries are new: nothing to adopt.
	nameAgentBoundary       = "agent-boundary"
	nameDeployAgentBoundary = "deploy-agent-boundary"
)
