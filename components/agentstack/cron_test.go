package agentstack

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The template's schedules: five fields, day names, in a time zone.
func TestParseCron(t *testing.T) {
	c, err := ParseCron("30 8 * * MON-FRI", "America/New_York")
	require.NoError(t, err)
	assert.True(t, c.Matches(time.Date(2024, time.January, 1, 13, 30, 0, 0, time.UTC)), "Monday 08:30 in New York is 13:30 UTC in January")
	assert.False(t, c.Matches(time.Date(2024, time.January, 6, 13, 30, 0, 0, time.UTC)), "not on Saturday")
	for _, bad := range []string{"0 8 * *", "61 8 * * *", "0 8 * * FUNDAY"} {
		_, err := ParseCron(bad, "UTC")
		assert.Error(t, err, bad)
	}
}
