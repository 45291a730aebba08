"""The first vocabulary: the seed address's terms, and terms of the corpus that jieba's own
dictionary cuts apart (一带一路 → 一带 / 一路). Staff add the rest in the admin (术语表)."""

from django.db import migrations
from django.utils import timezone

SEED_ADDRESS = "发展新质生产力与轴承产业新机遇（种子讲稿）"
CORPUS = "政府工作报告等语料中的常用提法"
TERMS = [
    ("新质生产力", "", SEED_ADDRESS),
    ("工业母机", "", SEED_ADDRESS),
    ("低空经济", "", SEED_ADDRESS),
    ("高端装备", "", SEED_ADDRESS),
    ("中国轴承工业协会", "轴承协会", SEED_ADDRESS),
    ("上海国际轴承峰会", "", SEED_ADDRESS),
    ("十四五", "第十四个五年规划", CORPUS),
    ("十三五", "第十三个五年规划", CORPUS),
    ("二十届三中全会", "", CORPUS),
    ("十九大", "", CORPUS),
    ("供给侧结构性改革", "", CORPUS),
    ("粤港澳大湾区", "", CORPUS),
    ("一带一路", "", CORPUS),
    ("京津冀协同发展", "", CORPUS),
    ("乡村振兴", "", CORPUS),
    ("脱贫攻坚", "", CORPUS),
    ("碳中和", "", CORPUS),
    ("精准扶贫", "", CORPUS),
    ("全过程人民民主", "", CORPUS),
    ("中国式现代化", "", CORPUS),
    ("人类命运共同体", "", CORPUS),
    ("新发展格局", "", CORPUS),
    ("新发展理念", "", CORPUS),
    ("长江经济带", "", CORPUS),
    ("两个一百年", "", CORPUS),
    ("四个全面", "", CORPUS),
    ("三去一降一补", "", CORPUS),
    ("大众创业万众创新", "双创", CORPUS),
    ("专精特新", "", CORPUS),
    ("数字经济", "", CORPUS),
    ("科学发展观", "", CORPUS),
    ("西部大开发", "", CORPUS),
    ("西电东送", "", CORPUS),
    ("西气东输", "", CORPUS),
    ("营改增", "", CORPUS),
    ("生态文明", "", CORPUS),
    ("制造强国", "", CORPUS),
    ("中国制造2025", "", CORPUS),
    ("创新驱动发展", "", CORPUS),
    ("自由贸易试验区", "自贸试验区", CORPUS),
    ("雄安新区", "", CORPUS),
    ("海南自由贸易港", "", CORPUS),
    ("减税降费", "", CORPUS),
    ("混合所有制", "", CORPUS),
    ("总体国家安全观", "", CORPUS),
    ("九二共识", "", CORPUS),
    ("产业链供应链", "", CORPUS),
    ("工业互联网", "", CORPUS),
    ("大数据", "", CORPUS),
]


def seed(apps, schema_editor):
    term_model = apps.get_model("search", "VocabularyTerm")
    stamp_model = apps.get_model("search", "VocabularyStamp")
    existing = set(term_model.objects.values_list("term", flat=True))
    term_model.objects.bulk_create(
        term_model(term=term, synonyms=synonyms, note=note)
        for term, synonyms, note in TERMS
        if term not in existing
    )
    stamp_model.objects.update_or_create(pk=1, defaults={"changed_at": timezone.now()})


def unseed(apps, schema_editor):
    apps.get_model("search", "VocabularyTerm").objects.filter(
        term__in=[term for term, _, _ in TERMS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("search", "0002_vocabulary")]

    operations = [migrations.RunPython(seed, unseed)]
