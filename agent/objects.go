package agent

import "sort"

// The objects of the managed-secrets bucket, named as the Elastic CI
// Stack's secrets helper reads them at the bucket's root
// (elastic-ci-stack-s3-secrets-hooks, s3secrets-helper/secrets/secrets.go):
// the SSH key first, then the env files, then secret-files/NAME exported as
// NAME. This is the one table of them; the policy pack's list of secret
// objects (policies/generated.rego) is generated from it.
const (
	// PrivateSSHKeyKey is the deploy key, loaded into the job's ssh-agent.
	PrivateSSHKeyKey = "private_ssh_key"
	// EnvKey is the build-safety gate (env.tmpl), eval'd first of the env
	// files: a refusal exits before anything below reaches the job.
	EnvKey = "env"
	// EnvironmentKey is the second env file: DOCKER_LOGIN_USER.
	EnvironmentKey = "environment"
	// BuildSafetyTokenKey is the gate's read-only GitHub token; the gate
	// fetches it itself, so it is in no job's environment.
	BuildSafetyTokenKey = "build-safety-github-token"
	// DockerPasswordKey is exported as DOCKER_LOGIN_PASSWORD, which the
	// stack's docker-login plugin uses in pre-command, after the gate and
	// the guard passed.
	DockerPasswordKey = "secret-files/DOCKER_LOGIN_PASSWORD"
	// BootstrapKey is the bootstrap script, in the config bucket.
	BootstrapKey = "bootstrap.sh"
)

// secretObjects says which objects of the secrets bucket hold credentials
// (their content must be a secret everywhere, in state and in the plan).
var secretObjects = map[string]bool{
	PrivateSSHKeyKey:    true,
	EnvKey:              false, // the gate: reviewable in the plan
	EnvironmentKey:      true,  // the Docker Hub user is secret config
	BuildSafetyTokenKey: true,
	DockerPasswordKey:   true,
}

// SecretObjectKeys lists the secrets bucket's objects that hold
// credentials, sorted.
func SecretObjectKeys() []string {
	var keys []string
	for k, secret := range secretObjects {
		if secret {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
