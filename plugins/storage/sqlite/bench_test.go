package sqlite

import (
	"testing"

	"github.com/cscs-dev/cscs/plugins/storage/storagetest"
)

// BenchmarkWriteBatch writes rounds of 1000 hosts with 20 samples each
// and reports rows/s, counting host, collection and sample rows.
func BenchmarkWriteBatch(b *testing.B) {
	storagetest.BenchmarkWriteBatch(b, migratedStore(b).WriteBatch)
}
