// Package docs holds the repository's documents and keeps one of them
// honest: architecture.md's picture of the packages is rendered from their
// imports, and a test fails when the code and the picture differ or when an
// import points up a layer.
package docs
