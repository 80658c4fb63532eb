package bucket

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

var bucketNameChars = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)

// ValidateName checks a bucket name against S3's general-purpose naming
// rules and says which one it breaks.
func ValidateName(name string) error {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("bucket name %q must be 3 to 63 characters long, is %d", name, len(name))
	case !bucketNameChars.MatchString(name):
		return fmt.Errorf("bucket name %q may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit", name)
	case strings.Contains(name, ".."), strings.Contains(name, ".-"), strings.Contains(name, "-."):
		return fmt.Errorf("bucket name %q must not have a dot next to another dot or a hyphen", name)
	case isIPv4(name):
		return fmt.Errorf("bucket name %q must not look like an IP address", name)
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"):
		return fmt.Errorf("bucket name %q must not start with a prefix S3 reserves (xn--, sthree-)", name)
	case strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"):
		return fmt.Errorf("bucket name %q must not end with a suffix S3 reserves (-s3alias, --ol-s3)", name)
	}
	return nil
}

func isIPv4(s string) bool {
	addr, err := netip.ParseAddr(s)
	return err == nil && addr.Is4()
}
