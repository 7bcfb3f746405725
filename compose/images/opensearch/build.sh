#!/bin/sh
# Builds $IMAGE_TAG: a single OpenSearch node behaving like the upstream
# opensearchproject/opensearch image for the HOSS compose file.
#   - the server and its modules come from Maven Central (pom.xml);
#   - the launcher shared with Elasticsearch (../jvm-search/launcher/, told
#     about this engine by launcher.properties) starts the node from
#     config/opensearch.yml;
#   - the JRE comes from a debootstrapped base image (lib.sh).
# The steps are ../jvm-search/image.sh's. Run from the repository root with
# IMAGE_TAG and RECIPE_HASH set.
set -eu

. "$(dirname "$0")/../lib.sh"
. "$HOSSADM_ROOT/compose/images/jvm-search/image.sh"

jvm_search_image opensearch "${OPENSEARCH_BASE_TAG:-hoss-local/opensearch-base:bookworm}"
