# Generated from agent.SecretObjectKeys (agent/objects.go) by
# policies.ObjectsRego; run `go test ./policies -update` after changing it.
package ci_infra

import rego.v1

# Objects of the secrets bucket that hold credentials.
secret_object_keys := {"build-safety-github-token", "environment", "private_ssh_key", "secret-files/DOCKER_LOGIN_PASSWORD"}
