package scripts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/buildkite/go-pipeline"
	"github.com/buildkite/go-pipeline/ordered"

	"mtrlz.dev/ci-infra/components/policydoc"
	"mtrlz.dev/ci-infra/internal/testkit/testenv"
	"mtrlz.dev/ci-infra/stacks"
)

// step is what the tests read of a step, from Buildkite's own parser.
type step struct {
	Label, Block, Prompt, Key, Command, DependsOn, If, ConcurrencyGroup string
	Concurrency                                                         int
	Agents                                                              map[string]string
}

func pipelineSteps(t *testing.T, file string) map[string]step {
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	steps := map[string]step{}
	for _, raw := range parsedPipeline(t, file).Steps {
		var s step
		var fields map[string]any
		switch st := raw.(type) {
		case *pipeline.CommandStep:
			s.Key, s.Label, s.Command, fields = st.Key, st.Label, st.Command, st.RemainingFields
		case *pipeline.InputStep:
			fields = st.Contents
			s.Key, s.Block, s.Prompt = str(fields, "key"), str(fields, "block"), str(fields, "prompt")
		default:
			t.Fatalf("unexpected step %T", raw)
		}
		s.DependsOn, s.If, s.ConcurrencyGroup = str(fields, "depends_on"), str(fields, "if"), str(fields, "concurrency_group")
		if n, ok := fields["concurrency"].(int); ok {
			s.Concurrency = n
		}
		if agents, ok := fields["agents"].(*ordered.MapSA); ok {
			s.Agents = map[string]string{}
			_ = agents.Range(func(k string, v any) error {
				s.Agents[k], _ = v.(string)
				return nil
			})
		}
		require.NotEmpty(t, s.Key, "every step has a key")
		steps[s.Key] = s
	}
	return steps
}

// prodConfig is prod's value of a ci-infra config key: Pulumi.prod.yaml's,
// else the default in Pulumi.yaml.
// prodAgentStacks is prod's ci-infra:agentStacks: its file's fields over
// the defaults, as the program reads them.
func prodAgentStacks(t *testing.T) stacks.AgentStacks {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "Pulumi.prod.yaml"))
	require.NoError(t, err)
	var stack struct{ Config map[string]any }
	require.NoError(t, yaml.Unmarshal(raw, &stack))
	value := ""
	if v, ok := stack.Config["ci-infra:agentStacks"]; ok {
		encoded, err := json.Marshal(v)
		require.NoError(t, err)
		value = string(encoded)
	}
	s, err := stacks.ParseAgentStacks("ci-infra:agentStacks", value)
	require.NoError(t, err)
	return s
}

func prodConfig(t *testing.T, key string) string {
	read := func(file string, into any) {
		raw, err := os.ReadFile(filepath.Join(testenv.Root(t), file))
		require.NoError(t, err)
		require.NoError(t, yaml.Unmarshal(raw, into))
	}
	var stack struct{ Config map[string]any }
	read("Pulumi.prod.yaml", &stack)
	if v, ok := stack.Config["ci-infra:"+key].(string); ok {
		return v
	}
	var project struct {
		Config map[string]struct{ Default any }
	}
	read("Pulumi.yaml", &project)
	v, ok := project.Config[key].Default.(string)
	require.True(t, ok, "prod has no string value for %s", key)
	return v
}

// prodTrust returns the trust policy of each IAM role of prod's committed
// plan, by logical name, and the host of its OIDC provider: IAM names a
// web identity token's claims "<host>:<claim>" in conditions.
func prodTrust(t *testing.T) (trust map[string]string, issuerHost string) {
	var doc struct {
		Resources []struct {
			Type, Name string
			Inputs     map[string]any
		}
	}
	require.NoError(t, json.Unmarshal(testenv.ProdPlan(t), &doc))
	trust = map[string]string{}
	for _, r := range doc.Resources {
		switch r.Type {
		case "aws:iam/role:Role":
			trust[r.Name], _ = r.Inputs["assumeRolePolicy"].(string)
		case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
			url, _ := r.Inputs["url"].(string)
			issuerHost = strings.TrimPrefix(url, "https://")
		}
	}
	require.NotEmpty(t, issuerHost, "prod has an OIDC provider")
	return trust, issuerHost
}

// tokenRequest is what scripts/lib.sh asks buildkite-agent for: the
// token's audience and the claim it passes on as a session tag.
func tokenRequest(t *testing.T) (audience, sessionTag string) {
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "scripts", "lib.sh"))
	require.NoError(t, err)
	flag := func(name string) string {
		m := regexp.MustCompile(`--` + name + ` ([A-Za-z0-9_.:/-]+)`).FindStringSubmatch(string(raw))
		require.NotNil(t, m, "lib.sh passes --%s to buildkite-agent oidc request-token", name)
		return m[1]
	}
	return flag("audience"), flag("aws-session-tag")
}

// admits reports whether a trust policy lets step assume the role in a
// build of branch, with the token lib.sh requests: Buildkite's `sub` claim
// names the pipeline, ref, commit and step, and the session tag carries
// the ID of the cluster whose agent runs the step. A step on the deploy
// queue runs in the deploy cluster, whose ID is the one the role requires
// (whatever prod configures); any other step runs in another cluster.
func admits(t *testing.T, policy, issuerHost, pipeline, branch string, s step) bool {
	t.Helper()
	audience, tag := tokenRequest(t)
	sub := "organization:" + prodConfig(t, "buildkiteOrg") + ":pipeline:" + pipeline +
		":ref:refs/heads/" + branch + ":commit:0123abcd:step:" + s.Key
	cluster := "0190ffff-0000-7000-8000-000000000000" // the default cluster
	if s.Agents["queue"] == prodAgentStacks(t).Deploy.Queue {
		cluster = requiredTag(t, policy, tag)
	}
	ok, err := policydoc.Admits(policy, map[string]string{
		issuerHost + ":aud":     audience,
		issuerHost + ":sub":     sub,
		"aws:RequestTag/" + tag: cluster,
	})
	require.NoError(t, err)
	return ok
}

// requiredTag is the value a trust policy requires of a session tag.
func requiredTag(t *testing.T, policy, tag string) string {
	var doc struct {
		Statement []struct {
			Condition map[string]map[string]any
		}
	}
	require.NoError(t, json.Unmarshal([]byte(policy), &doc))
	require.NotEmpty(t, doc.Statement)
	v, ok := doc.Statement[0].Condition["StringEquals"]["aws:RequestTag/"+tag].(string)
	require.True(t, ok, "the role requires the session tag %s that lib.sh asks for", tag)
	return v
}

func TestPipeline(t *testing.T) {
	steps := pipelineSteps(t, defaultPipeline)
	deploySteps := pipelineSteps(t, deployPipeline)
	publishSteps := pipelineSteps(t, publishPipeline)
	ci, ciDeploy, publishing := prodConfig(t, "ciPipeline"), prodConfig(t, "ciDeployPipeline"), prodConfig(t, "publishPipeline")
	branch := prodConfig(t, "ciDeployBranch")
	trust, issuer := prodTrust(t)
	roles := func(pipeline string, s step) []string {
		var admitted []string
		for _, role := range []string{"preview", "deploy", "publish"} {
			if admits(t, trust["ci-access-"+role+"-role"], issuer, pipeline, branch, s) {
				admitted = append(admitted, role)
			}
		}
		return admitted
	}

	test := steps["test"]
	assert.Equal(t, "scripts/ci-test", test.Command)
	assert.Empty(t, test.If, "tests and the offline plan run for every build")
	assert.Empty(t, test.Agents, "tests run on the default queue, without credentials")
	assert.Empty(t, roles(ci, test), "the tests get no role")

	// Every build the gate lets run previews prod, as the read-only role,
	// on whichever branch: a pull request's preview.
	prPreview := steps["preview"]
	assert.Equal(t, "scripts/ci-preview prod", prPreview.Command)
	assert.Empty(t, prPreview.If, "every build the gate lets run previews")
	assert.Empty(t, prPreview.Agents, "on the default queue")
	assert.Equal(t, []string{"preview"}, roles(ci, prPreview), "the preview role trusts the pull requests' preview step")
	assert.True(t, admits(t, trust["ci-access-preview-role"], issuer, ci, "member:feature", prPreview), "on any branch, a fork's too")
	assert.Len(t, steps, 2, "the default cluster's pipeline tests and previews, and deploys nothing")
	for _, s := range deploySteps {
		want := []string(nil)
		if s.Key == "preview" {
			want = []string{"preview"}
		}
		if s.Key == "drift" {
			want = nil // the default cluster's pipeline has no drift step the preview role trusts
		}
		assert.Equal(t, want, roles(ci, s), "%s gets no other role, even for a step keyed %s on the deploy queue", ci, s.Key)
	}

	preview := deploySteps["preview"]
	assert.Equal(t, "scripts/in-image scripts/ci-preview prod", preview.Command)
	assert.True(t, admits(t, trust["ci-access-preview-role"], issuer, ciDeploy, branch, preview), "prod's preview role trusts this step")
	assert.False(t, admits(t, trust["ci-access-deploy-role"], issuer, ciDeploy, branch, preview), "the preview step cannot deploy")
	assert.Equal(t, map[string]string{"queue": "deploy"}, preview.Agents, "the role trusts the deploy cluster's tokens only")

	for _, key := range []string{"preview", "approve", "deploy"} {
		assert.Equal(t, `build.source != "schedule"`, deploySteps[key].If, "a scheduled build runs no %s", key)
	}
	drift := deploySteps["drift"]
	assert.Equal(t, "scripts/in-image scripts/ci-drift prod", drift.Command)
	assert.Equal(t, `build.source == "schedule"`, drift.If, "the drift check is the scheduled build's only step")
	assert.Equal(t, []string{"preview"}, roles(ciDeploy, drift), "it reads as the preview role, and nothing more")
	assert.Equal(t, map[string]string{"queue": "deploy"}, drift.Agents)

	approve := deploySteps["approve"]
	assert.NotEmpty(t, approve.Block, "a person unblocks every deploy")
	assert.Equal(t, "preview", approve.DependsOn)

	deploy := deploySteps["deploy"]
	assert.Equal(t, "scripts/in-image scripts/ci-up prod", deploy.Command)
	assert.True(t, admits(t, trust["ci-access-deploy-role"], issuer, ciDeploy, branch, deploy), "prod's deploy role trusts this step")
	assert.False(t, admits(t, trust["ci-access-deploy-role"], issuer, ciDeploy, "feature", deploy), "on main only")
	assert.Equal(t, "approve", deploy.DependsOn, "pulumi up waits for the block step")
	assert.Equal(t, 1, deploy.Concurrency, "one deploy at a time")
	assert.Equal(t, map[string]string{"queue": "deploy"}, deploy.Agents, "the role trusts the deploy cluster's tokens only")
	assert.NotEmpty(t, deploy.ConcurrencyGroup)

	publish := publishSteps["publish"]
	assert.Equal(t, "scripts/publish-release", publish.Command)
	assert.True(t, admits(t, trust["ci-access-publish-role"], issuer, publishing, branch, publish), "prod's publish role trusts this step")
	assert.False(t, admits(t, trust["ci-access-deploy-role"], issuer, publishing, branch, publish), "the publish step cannot deploy")
	assert.Equal(t, map[string]string{"queue": "deploy"}, publish.Agents)

	for _, file := range []map[string]step{steps, deploySteps, publishSteps} {
		for _, s := range file {
			if s.Command == "" {
				continue
			}
			for _, script := range strings.Fields(s.Command) {
				if !strings.HasPrefix(script, "scripts/") {
					continue
				}
				info, err := os.Stat(filepath.Join(testenv.Root(t), script))
				if assert.NoError(t, err, "step %s runs %s", s.Key, script) {
					assert.NotZero(t, info.Mode()&0o111, "%s is executable", script)
				}
			}
		}
	}
}

// fakeTools puts logging stand-ins for pulumi, aws and buildkite-agent on
// PATH. It returns the environment, the log of their calls, and a function
// that replaces a stand-in (each logs its arguments, then runs body).
func fakeTools(t *testing.T) (env []string, logFile string, write func(name, body string)) {
	dir := t.TempDir()
	logFile = filepath.Join(dir, "calls.log")
	write = func(name, body string) {
		script := "#!/usr/bin/env bash\nprintf '%s %s\\n' \"" + name + "\" \"$*\" >>" + logFile + "\n" + body
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755))
	}
	write("buildkite-agent", `[ "$1 $2" = "oidc request-token" ] && echo oidc-jwt-for-test
[ "$1 $2" = "secret get" ] && echo "test-value-of-$3"
[ "$1" = annotate ] && cat >>`+logFile+`
exit 0`)
	write("aws", `echo ASIATEST secret-for-test session-for-test`)
	write("pulumi", `echo "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-unset} PULUMI_CONFIG_PASSPHRASE=${PULUMI_CONFIG_PASSPHRASE-unset}" >>`+logFile+`
case " $* " in
  *" --json "*) printf '%s\n' '`+previewJSON+`' ;;
  *) printf 'Previewing\nResources:\n    + 3 to create\n' ;;
esac`)
	env = []string{"PATH=" + dir + ":" + os.Getenv("PATH"), "HOME=" + dir}
	// The scripts build Go (cmd/preview-report): with the test's own caches,
	// not a cold one under the fake HOME.
	for _, key := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOFLAGS", "GOPROXY", "GOTOOLCHAIN"} {
		if v, err := exec.Command("go", "env", key).Output(); err == nil {
			env = append(env, key+"="+strings.TrimSpace(string(v)))
		}
	}
	return env, logFile, write
}

// previewJSON is the shape of `pulumi preview --json` (CLI 3.274.1) that
// scripts/ci-preview reads: an agent stack's update. The engine test
// TestAPullRequestPreviewAnnotatesItsDiff reads the real CLI's.
const previewJSON = `{"steps":[{"op":"same","urn":"urn:pulumi:prod::ci-infra::pulumi:pulumi:Stack::ci-infra-prod"},` +
	`{"op":"update","urn":"urn:pulumi:prod::ci-infra::ci-infra:buildkite:AgentStack$aws:cloudformation/stack:Stack::agents-stack","diffReasons":["parameters"],` +
	`"oldState":{"protect":false,"inputs":{"parameters":{"MaxSize":"40","MinSize":"0"}}},"newState":{"inputs":{"parameters":{"MaxSize":"9","MinSize":"0"}}}}],` +
	`"changeSummary":{"same":1,"update":1}}`

func runScript(t *testing.T, env []string, script string, args ...string) (string, string, error) {
	env2, logFile, _ := fakeTools(t)
	cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", script), args...)
	cmd.Env = append(env2, env...)
	out, err := cmd.CombinedOutput()
	calls, _ := os.ReadFile(logFile)
	return string(out), string(calls), err
}

func TestCIPreviewInBuildkiteUsesTheOIDCRole(t *testing.T) {
	_, calls, err := runScript(t, []string{"BUILDKITE=true", "BUILDKITE_BUILD_NUMBER=7", "CI_INFRA_PREVIEW_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-preview"}, "ci-preview", "prod")
	require.NoError(t, err, calls)
	assert.Contains(t, calls, "buildkite-agent oidc request-token --audience sts.amazonaws.com")
	assert.Contains(t, calls, "aws sts assume-role-with-web-identity --role-arn arn:aws:iam::123456789012:role/ci-infra-prod-preview --role-session-name buildkite-7-preview --web-identity-token oidc-jwt-for-test")
	assert.Contains(t, calls, "pulumi preview --stack prod --json --policy-pack policies --non-interactive")
	assert.Contains(t, calls, "AWS_ACCESS_KEY_ID=ASIATEST PULUMI_CONFIG_PASSPHRASE=\n", "pulumi runs with the role's credentials and an empty passphrase")
	assert.Contains(t, calls, "buildkite-agent annotate --style success --context pulumi preview of prod")
	assert.Contains(t, calls, "| update | `aws:cloudformation/stack:Stack` | `agents-stack` | parameters |", "the annotation carries the diff")
	assert.Contains(t, calls, "- `agents-stack` parameters.MaxSize: \"40\" → \"9\"\n", "and each changed value, old and new")
	assert.NotContains(t, calls, "MinSize", "an unchanged value is not listed")
	assert.Contains(t, calls, "Protected resources: none replaced or deleted.")
}

// A preview that would replace or delete a protected resource fails, and
// its annotation says which; so does one the engine refused for it.
func TestCIPreviewFailsOnAProtectedResource(t *testing.T) {
	for name, tc := range map[string]struct{ json, want string }{
		"planned": {`{"steps":[{"op":"replace","urn":"urn:pulumi:prod::ci-infra::ci-infra:storage:Bucket$aws:s3/bucketV2:BucketV2::secrets-bucket","diffReasons":["bucket"],"oldState":{"protect":true}}]}`,
			"- replace `secrets-bucket`"},
		"refused": {`{"steps":[],"diagnostics":[{"severity":"error","message":"unable to replace resource \"urn:pulumi:prod::ci-infra::x::zone\"\nas it is currently marked for protection."}]}`,
			"as it is currently marked for protection"},
	} {
		t.Run(name, func(t *testing.T) {
			env, logFile, write := fakeTools(t)
			write("pulumi", `printf '%s\n' '`+tc.json+`'; exit 0`)
			cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "ci-preview"), "prod")
			cmd.Env = append(env, "BUILDKITE=true", "CI_INFRA_PREVIEW_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-preview")
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "a protected resource fails the preview:\n%s", out)
			calls, _ := os.ReadFile(logFile)
			assert.Contains(t, string(calls), "buildkite-agent annotate --style error")
			assert.Contains(t, string(calls), "**Protected resources replaced or deleted: 1**")
			assert.Contains(t, string(calls), tc.want)
		})
	}
}

func TestCIPreviewOnALaptopUsesYourCredentials(t *testing.T) {
	_, calls, err := runScript(t, nil, "ci-preview")
	require.NoError(t, err, calls)
	assert.NotContains(t, calls, "buildkite-agent")
	assert.NotContains(t, calls, "assume-role")
	assert.Contains(t, calls, "pulumi preview --stack prod --json --policy-pack policies")
	assert.Contains(t, calls, "PULUMI_CONFIG_PASSPHRASE=\n", "unset means empty: the CLI refuses neither set")
}

func TestCIUpNeedsItsRoleInBuildkite(t *testing.T) {
	out, calls, err := runScript(t, []string{"BUILDKITE=true"}, "ci-up", "prod")
	require.Error(t, err)
	assert.Contains(t, out, "CI_INFRA_DEPLOY_ROLE_ARN")
	assert.NotContains(t, calls, "pulumi up", "nothing is deployed without the deploy role")
}

func TestCIUpInBuildkiteSkipsThePrompt(t *testing.T) {
	_, calls, err := runScript(t, []string{"BUILDKITE=true", "CI_INFRA_DEPLOY_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-deploy"}, "ci-up", "prod")
	require.NoError(t, err, calls)
	assert.Contains(t, calls, "--role-arn arn:aws:iam::123456789012:role/ci-infra-prod-deploy --role-session-name buildkite-0-deploy")
	main := strings.Index(calls, "pulumi up --stack prod --diff --policy-pack policies --yes --non-interactive --exclude")
	secrets := strings.Index(calls, "pulumi -C secrets up --stack prod --diff --policy-pack ../policies --yes --non-interactive")
	require.True(t, main >= 0 && secrets >= 0, "the main stack and its secrets stack are updated:\n%s", calls)
	assert.Less(t, main, secrets, "the main stack first: the secrets stack reads its secretsNeeded")
	// The deploy agents' own stack is left to an operator: its URNs come
	// from the plan (the stack output deployStackName), not from the script.
	assert.Contains(t, calls, "--exclude urn:pulumi:prod::ci-infra::ci-infra:buildkite:AgentStack::deploy-agents --exclude-dependents "+
		"--exclude urn:pulumi:prod::ci-infra::ci-infra:buildkite:AgentStack$aws:cloudformation/stack:Stack::deploy-agents-stack")
	// The secrets stack's key and the GitHub token come from Buildkite
	// secrets, read in this step: the job's environment held neither.
	assert.Contains(t, calls, "buildkite-agent secret get CI_INFRA_SECRETS_PASSPHRASE")
	assert.Contains(t, calls, "buildkite-agent secret get GITHUB_TOKEN")
	// The stand-in logs its arguments, then the variables it was run with.
	secretsUp := strings.SplitN(calls[secrets:], "\n", 3)
	require.Len(t, secretsUp, 3)
	assert.Contains(t, secretsUp[1], "PULUMI_CONFIG_PASSPHRASE=test-value-of-CI_INFRA_SECRETS_PASSPHRASE",
		"the secrets stack runs with the passphrase the Buildkite secret holds")
}

// Without its Buildkite secrets, a deploy stops before it changes anything;
// the previews never ask for them.
func TestOnlyTheDeployStepReadsTheBuildkiteSecrets(t *testing.T) {
	env, logFile, write := fakeTools(t)
	write("buildkite-agent", `[ "$1 $2" = "oidc request-token" ] && echo oidc-jwt-for-test
[ "$1 $2" = "secret get" ] && exit 1
exit 0`)
	cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "ci-up"), "prod")
	cmd.Env = append(env, "BUILDKITE=true", "CI_INFRA_DEPLOY_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-deploy")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "No Buildkite secret CI_INFRA_SECRETS_PASSPHRASE")
	calls, _ := os.ReadFile(logFile)
	assert.NotContains(t, string(calls), "pulumi up", "nothing is deployed without its secrets")

	_, calls2, err := runScript(t, []string{"BUILDKITE=true", "CI_INFRA_PREVIEW_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-preview"}, "ci-preview", "prod")
	require.NoError(t, err)
	assert.NotContains(t, calls2, "secret get", "a preview reads no secret")
}

// in-image runs the command in the image pipeline.yml names, passing
// variables by name only; with no image pushed yet it refuses.
func TestInImageRunsThePipelinesImage(t *testing.T) {
	env, logFile, write := fakeTools(t)
	write("docker", "exit 0")
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".buildkite"), 0o755))
	raw, err := os.ReadFile(filepath.Join(testenv.Root(t), "scripts", "in-image"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", "in-image"), raw, 0o755))
	run := func(image string) (string, string, error) {
		require.NoError(t, os.WriteFile(filepath.Join(root, ".buildkite", "pipeline.yml"), []byte("env:\n  CI_INFRA_IMAGE: \""+image+"\"\n"), 0o644))
		require.NoError(t, os.WriteFile(logFile, nil, 0o644))
		cmd := exec.Command(filepath.Join(root, "scripts", "in-image"), "scripts/ci-up", "prod")
		cmd.Env = append(env, "CI_INFRA_DEPLOY_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-deploy", "PULUMI_BACKEND_URL=s3://state-x",
			"CI_INFRA_SECRETS_PASSPHRASE=not-a-real-passphrase", "GITHUB_TOKEN=not-a-real-github-token")
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(logFile)
		return string(out), string(calls), err
	}

	digest := "materialize/ci-infra:20261202-120000@sha256:" + strings.Repeat("0f", 32)
	_, calls, err := run(digest)
	require.NoError(t, err)
	assert.Contains(t, calls, "docker run --rm --init --volume "+root+":/workdir --workdir /workdir")
	assert.Contains(t, calls, "--env CI_INFRA_DEPLOY_ROLE_ARN --env PULUMI_BACKEND_URL")
	assert.Contains(t, calls, digest+" scripts/ci-up prod")
	assert.NotContains(t, calls, "not-a-real", "values never reach a command line")
	assert.NotContains(t, calls, "--env CI_INFRA_SECRETS_PASSPHRASE", "the deploy step reads its secrets itself (buildkite-agent secret get)")
	assert.NotContains(t, calls, "--env GITHUB_TOKEN")

	out, calls, err := run("materialize/ci-infra:not-pushed-yet")
	require.Error(t, err)
	assert.Contains(t, out, "scripts/ci-image push")
	assert.NotContains(t, calls, "docker")

	// Issue 28: a tag names whatever was pushed under it last.
	for _, ref := range []string{"materialize/ci-infra:20261202-120000", "materialize/ci-infra:latest", "materialize/ci-infra@sha256:short",
		"materialize/ci-infra:x@sha256:" + strings.Repeat("0f", 32) + " --privileged"} {
		out, calls, err := run(ref)
		require.Error(t, err, ref)
		assert.Contains(t, out, "not an image by digest", ref)
		assert.NotContains(t, calls, "docker", ref)
	}
}

// publish-release copies the triggering release build's dist/ artifacts
// into the downloads bucket with the publish role, and refuses a build
// that no release triggered.
func TestPublishReleaseCopiesTheReleaseBuildsArtifacts(t *testing.T) {
	env, logFile, write := fakeTools(t)
	write("buildkite-agent", `case "$1 $2" in
  "oidc request-token") echo oidc-jwt-for-test ;;
  "artifact download") mkdir -p "$6/dist" && touch "$6/dist/materialized-v1.tar.gz" ;;
esac`)
	run := func(extra ...string) (string, string, error) {
		require.NoError(t, os.WriteFile(logFile, nil, 0o644))
		cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "publish-release"))
		cmd.Env = append(append(env, "BUILDKITE=true", "BUILDKITE_BUILD_NUMBER=9",
			"CI_INFRA_PUBLISH_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-publish",
			"CI_INFRA_DOWNLOADS_BUCKET=downloads.mtrlz.dev"), extra...)
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(logFile)
		return string(out), string(calls), err
	}
	_, calls, err := run("BUILDKITE_TRIGGERED_FROM_BUILD_ID=0190abcd-0000-7000-8000-000000000001")
	require.NoError(t, err, calls)
	assert.Contains(t, calls, "buildkite-agent artifact download --build 0190abcd-0000-7000-8000-000000000001 dist/*")
	assert.Contains(t, calls, "--role-arn arn:aws:iam::123456789012:role/ci-infra-prod-publish --role-session-name buildkite-9-publish")
	assert.Regexp(t, `aws s3 cp --recursive --only-show-errors \S+/dist/ s3://downloads.mtrlz.dev/`, calls)

	out, calls, err := run()
	require.Error(t, err, "no release build triggered it")
	assert.Contains(t, out, "only as the release pipeline triggers it")
	assert.NotContains(t, calls, "assume-role")
}

// sign-steps writes the stack's values into the steps' signed env before
// it signs, and signs nothing half-filled.
func TestSignStepsFillsTheSignedEnvFromTheStack(t *testing.T) {
	env, _, write := fakeTools(t)
	write("pulumi", `case "$1 $2" in
  "stack output") [ "$3" = deploySigningKeyId ] || echo "value-of-$3" ;;
  "config get") [ "$3" = aws:region ] && echo us-east-1 ;;
esac
exit 0`)
	write("buildkite-agent", `[ "$1 $2" = "tool sign" ] && cat "${@: -1}"`)
	sign := func(file string, extra ...string) (string, error) {
		cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "sign-steps"), "ci-infra-deploy", filepath.Join(testenv.Root(t), ".buildkite", file))
		cmd.Env = append(append(env, "CI_INFRA_SIGNING_KEY_ID=test-key", "CI_INFRA_REPOSITORY_URL=git@github.com:MaterializeInc/ci-infra.git",
			"BUILDKITE_ORGANIZATION_SLUG=materialize"), extra...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := sign("deploy.yml", "PULUMI_BACKEND_URL=s3://state-bucket-for-test")
	require.NoError(t, err, out)
	p, err := pipeline.Parse(strings.NewReader(out))
	require.NoError(t, err, "what is signed parses:\n%s", out)
	envs := map[string]map[string]string{}
	for _, st := range p.Steps {
		if cmd, ok := st.(*pipeline.CommandStep); ok {
			envs[cmd.Key] = cmd.Env
		}
	}
	assert.Equal(t, map[string]string{"CI_INFRA_PREVIEW_ROLE_ARN": "value-of-ciPreviewRoleArn", "PULUMI_BACKEND_URL": "s3://state-bucket-for-test", "AWS_REGION": "us-east-1"}, envs["preview"])
	assert.Equal(t, map[string]string{"CI_INFRA_DEPLOY_ROLE_ARN": "value-of-ciDeployRoleArn", "PULUMI_BACKEND_URL": "s3://state-bucket-for-test", "AWS_REGION": "us-east-1"}, envs["deploy"])
	assert.NotRegexp(t, `"<[a-z]`, out, "no placeholder is left")

	out, err = sign("deploy.yml")
	require.Error(t, err, "no backend to write in")
	assert.Contains(t, out, "set PULUMI_BACKEND_URL")
	assert.NotContains(t, out, "\nsteps:", "nothing is signed")

	out, err = sign("deploy.yml", "PULUMI_BACKEND_URL=s3://state-bucket-for-test\"\n      EVIL: \"1")
	require.Error(t, err, "a value that would end its quotes")
	assert.Contains(t, out, "refusing to sign it")
	assert.NotContains(t, out, "\nsteps:", "nothing is signed")

	out, err = sign("publish.yml")
	require.NoError(t, err, "publish.yml needs no backend:\n%s", out)
	assert.Contains(t, out, `CI_INFRA_PUBLISH_ROLE_ARN: "value-of-publishRoleArn"`)
	assert.Contains(t, out, `CI_INFRA_DOWNLOADS_BUCKET: "value-of-downloadsBucketName"`)
}

// Issue 31: the drift check as the scheduled step runs it. It reads as the
// preview role, posts its report as the build's annotation, and its exit
// status is the verdict: 1 on a drift (which fails the build, so Buildkite
// notifies), 0 with nothing drifted, 2 when it cannot tell.
func TestCIDriftIsAReadOnlyCheckWithAVerdict(t *testing.T) {
	role := "CI_INFRA_PREVIEW_ROLE_ARN=arn:aws:iam::123456789012:role/ci-infra-prod-preview"
	run := func(t *testing.T, pulumi string, env ...string) (int, string, string) {
		t.Helper()
		fake, logFile, write := fakeTools(t)
		if pulumi != "" {
			write("pulumi", pulumi)
		}
		cmd := exec.Command(filepath.Join(testenv.Root(t), "scripts", "ci-drift"), "prod")
		cmd.Env = append(fake, env...)
		out, err := cmd.CombinedOutput()
		calls, _ := os.ReadFile(logFile)
		code := 0
		if exit, ok := err.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err, string(out))
		}
		return code, string(out), string(calls)
	}

	code, out, calls := run(t, "", "BUILDKITE=true", "BUILDKITE_BUILD_NUMBER=9", role)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, calls, "--role-arn arn:aws:iam::123456789012:role/ci-infra-prod-preview --role-session-name buildkite-9-preview")
	assert.Contains(t, calls, "pulumi -C . preview --stack prod --refresh --expect-no-changes --json --non-interactive")
	assert.Contains(t, calls, "buildkite-agent annotate --style error --context drift check of prod")
	assert.Contains(t, calls, "**Drift in prod**: 1 resource differs from the code")
	assert.Contains(t, calls, "parameters.MaxSize: code \"9\", account \"40\"; to keep the account's: `pulumi config set --path agentStacks.test.maxSize 40 --stack prod`")
	assert.NotContains(t, calls, "secrets preview", "the scheduled check has no passphrase for the secrets stack")

	code, out, calls = run(t, `printf '%s\n' '{"steps":[{"op":"same","urn":"urn:pulumi:prod::ci-infra::pulumi:pulumi:Stack::ci-infra-prod"}]}'`, "BUILDKITE=true", role)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, calls, "buildkite-agent annotate --style success --context drift check of prod")
	assert.Contains(t, out, "**No drift in prod**")

	code, out, _ = run(t, `echo 'error: the stack is currently locked by 1 lock(s).' >&2; printf '%s\n' '{"steps":[],"diagnostics":[{"severity":"error","message":"the stack is currently locked by 1 lock(s)."}]}'; exit 255`, "BUILDKITE=true", role)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "could not tell")
	assert.Contains(t, out, "the state is locked")

	code, out, _ = run(t, "", "BUILDKITE=true")
	assert.Equal(t, 2, code, "no role in Buildkite: it cannot tell, and says so:\n%s", out)

	// On a laptop, with the secrets stack's passphrase, both stacks.
	code, out, calls = run(t, "", "CI_INFRA_SECRETS_PASSPHRASE=test-passphrase")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, calls, "pulumi -C secrets preview --stack prod --refresh --expect-no-changes --json --non-interactive")
	assert.Contains(t, out, "**Drift in prod (secrets stack)**")
	assert.NotContains(t, out, "test-passphrase")
}
