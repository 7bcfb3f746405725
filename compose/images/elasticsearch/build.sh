#!/bin/sh
# Builds $IMAGE_TAG: a single Elasticsearch 7.10.2 node (the last Apache-2.0
# release) behaving like the upstream docker.elastic.co/elasticsearch/
# elasticsearch:7.10.2 image, without X-Pack.
#   - the server and its modules come from Maven Central (pom.xml);
#   - the launcher shared with OpenSearch (../jvm-search/launcher/, told
#     about this engine by launcher.properties) starts the node from
#     config/elasticsearch.yml;
#   - the JRE comes from a debootstrapped base image (lib.sh).
# The steps are ../jvm-search/image.sh's. Run from the repository root with
# IMAGE_TAG and RECIPE_HASH set.
set -eu

. "$(dirname "$0")/../lib.sh"
. "$HOSSADM_ROOT/compose/images/jvm-search/image.sh"

jvm_search_image elasticsearch "${ELASTICSEARCH_BASE_TAG:-hoss-local/elasticsearch-base:bookworm}"
