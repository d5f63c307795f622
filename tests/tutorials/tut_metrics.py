"""Evaluation code from course notebooks: the ImageNet example's top-k accuracy and AverageMeter, a confusion
matrix filled in a loop, per-class accuracy from its diagonal, and single-image top-5 inference."""
import numpy as np
import torch
import torch.nn.functional as F


class AverageMeter(object):
    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def accuracy(output, target, topk=(1,)):
    with torch.no_grad():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target.view(1, -1).expand_as(pred))
        res = []
        for k in topk:
            correct_k = correct[:k].reshape(-1).float().sum(0, keepdim=True)
            res.append(correct_k.mul_(100.0 / batch_size))
        return res


if __name__ == "__main__":
    CHECK = {}
    rng = np.random.default_rng(22)
    output = torch.tensor(rng.standard_normal((12, 6)), dtype=torch.float32)
    target = torch.tensor(rng.integers(0, 6, 12))
    acc1, acc5 = accuracy(output, target, topk=(1, 5))
    CHECK["acc1"] = acc1
    CHECK["acc5"] = acc5
    top1 = AverageMeter()
    top1.update(acc1[0], output.size(0))
    top1.update(acc5[0], output.size(0))
    CHECK["meter_avg"] = top1.avg
    nb_classes = 6
    confusion_matrix = torch.zeros(nb_classes, nb_classes)
    _, preds = torch.max(output, 1)
    for t, p in zip(target.view(-1), preds.view(-1)):
        confusion_matrix[t.long(), p.long()] += 1
    CHECK["confusion"] = confusion_matrix
    CHECK["per_class"] = confusion_matrix.diag() / confusion_matrix.sum(1).clamp(min=1)
    CHECK["bincount_cm"] = torch.bincount(target * nb_classes + preds, minlength=nb_classes ** 2).view(6, 6)
    CHECK["trace"] = torch.trace(confusion_matrix)
    out = output[0:1]
    _, indices = torch.sort(out, descending=True)
    percentage = F.softmax(out, dim=1)[0] * 100
    CHECK["top5"] = [(int(idx), percentage[idx].item()) for idx in indices[0][:5]]
    probs, classes = torch.softmax(out, dim=1).topk(3)
    CHECK["topk_probs"] = (probs, classes)
    CHECK["argsort_desc"] = torch.argsort(out, dim=1, descending=True)
    CHECK["correct_mask"] = preds.eq(target).sum().item()
    CHECK["precision_class0"] = ((preds == 0) & (target == 0)).sum().item() / max((preds == 0).sum().item(), 1)
    wrong = (preds != target).nonzero(as_tuple=False).squeeze()
    CHECK["wrong_idx"] = wrong
    CHECK["unique"] = torch.unique(target, return_counts=True)
