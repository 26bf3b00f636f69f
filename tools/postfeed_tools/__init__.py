"""postfeed's tools: the `postfeed` command line, the local stack on moto and the bench.

Nothing here runs in Lambda: the functions import `postfeed` (shared/, the layer) alone. This package imports
`postfeed`, never the other way round; its own dependencies (boto3, moto, tqdm) are in tools/requirements.txt.
"""
