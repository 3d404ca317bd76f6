/* import-hf: a Hugging Face GPT-2 folder as a runnel checkpoint. */
#include <msgpack.h>

#include "base/cli.h"
#include "base/err.h"
#include "model/ckpt.h"
#include "model/hf.h"
#include "model/model.h"
#include "tok/bpe.h"

static const char usage[] =
    "usage: import-hf -o CKPT DIR\n"
    "Convert the Hugging Face GPT-2 model in folder DIR (config.json, model.safetensors,\n"
    "and the tokenizer's vocab.json and merges.txt) into a runnel checkpoint for\n"
    "sample and score.\n"
    "\n"
    "  -o, --output CKPT    the checkpoint to write (atomically)\n"
    "  -h, --help           this text; --version the version\n";

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        CLI_STD_OPTIONS,
        {0},
    };
    const char *output = NULL;
    cli_init(argc, argv, usage);
    for (int c; (c = cli_getopt(argc, argv, "o:", opts)) != -1;)
        if (c == 'o')
            output = optarg;
    if (optind != argc - 1)
        cli_usage_error("one model folder is needed");
    if (!output)
        cli_usage_error("-o CKPT is needed");
    const char *dir = argv[optind];

    bpe_t *tok;
    model *m = hf_load(dir, &tok);
    msgpack_sbuffer tok_bytes;
    msgpack_sbuffer_init(&tok_bytes);
    if (tok) {
        msgpack_packer pk;
        msgpack_packer_init(&pk, &tok_bytes, msgpack_sbuffer_write);
        tok_pack(tok, &pk);
    }
    ckpt_write(output, &(ckpt_contents){.cfg = model_cfg(m), .params = model_params(m),
                                        .tokenizer = tok ? tok_bytes.data : NULL,
                                        .tokenizer_len = tok_bytes.size});
    msgpack_sbuffer_destroy(&tok_bytes);
    if (tok)
        tok_free(tok);
    model_free(m);
    return 0;
}
