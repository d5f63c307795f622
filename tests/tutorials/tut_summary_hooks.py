"""A home-made model summary (the 'torchsummary' recipe): forward hooks on every leaf module record class
names, output shapes and parameter counts."""
from collections import OrderedDict

import torch
import torch.nn as nn


def summary(model, input_size, batch_size=2):
    def register_hook(module):
        def hook(module, input, output):
            class_name = str(module.__class__).split(".")[-1].split("'")[0]
            module_idx = len(summary)
            m_key = "%s-%i" % (class_name, module_idx + 1)
            summary[m_key] = OrderedDict()
            summary[m_key]["input_shape"] = [batch_size] + list(input[0].size())[1:]
            summary[m_key]["output_shape"] = [batch_size] + list(output.size())[1:]
            params = 0
            if hasattr(module, "weight") and hasattr(module.weight, "size"):
                params += torch.prod(torch.LongTensor(list(module.weight.size())))
                summary[m_key]["trainable"] = module.weight.requires_grad
            if hasattr(module, "bias") and hasattr(module.bias, "size"):
                params += torch.prod(torch.LongTensor(list(module.bias.size())))
            summary[m_key]["nb_params"] = params

        if not isinstance(module, nn.Sequential) and not isinstance(module, nn.ModuleList) and not (module == model):
            hooks.append(module.register_forward_hook(hook))

    x = torch.rand(batch_size, *input_size).type(torch.FloatTensor)
    summary = OrderedDict()
    hooks = []
    model.apply(register_hook)
    model(x)
    for h in hooks:
        h.remove()
    lines = []
    total_params = 0
    for layer in summary:
        line = "{:>20}  {:>25} {:>15}".format(layer, str(summary[layer]["output_shape"]),
                                               "{0:,}".format(int(summary[layer]["nb_params"])))
        total_params += int(summary[layer]["nb_params"])
        lines.append(line)
    lines.append("Total params: {0:,}".format(total_params))
    return "\n".join(lines)


if __name__ == "__main__":
    CHECK = {}
    model = nn.Sequential(nn.Conv2d(3, 5, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(5, 10, 5), nn.ReLU(),
                          nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(250, 32), nn.ReLU(), nn.Linear(32, 1))
    text = summary(model, (3, 32, 32))
    print(text)
    CHECK["summary"] = text
    CHECK["class_str"] = str(model[0].__class__)
    CHECK["module_path"] = type(model[0]).__module__
