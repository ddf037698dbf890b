package storage

// PartCollections is partCollections, for the tests of package
// storage_test.
const PartCollections = partCollections
