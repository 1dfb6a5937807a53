"""The screening policy shipped with the gateway (LAW.md section A), as plain data.

A data migration loads DEFAULT_CATEGORIES into the policy tables; regulators then extend
them (SH 14, ZJ 14 and CRR 14 each end with a catch-all).  default_policy_spec() builds the
same policy for code that runs without a database (tests, the benchmark).

Key-term syntax (see compliance.screening for the normalisation behind it):
    word     Chinese terms and Latin terms of 6+ letters match anywhere in a key;
             shorter Latin terms match whole tokens (camelCase and separators split tokens)
    =word    whole tokens only        *word    anywhere
    !words   exception: a match lying inside it does not count
    ~word    whole tokens, only in a key that also names a person ("~rh": patient_rh,
             not the relative humidity of an inspection record)
Spelling variants need not be listed: case, separators, full-width forms, tone marks,
zero-width characters and look-alike letters are folded before comparing.  A few main
terms are also listed in traditional characters for readers; they fold to simplified ones.

Value patterns are Python regular expressions searched in every string value; a violation
reports the pattern's name, never the value.  They look for a disclosure (a blood group
written out, a diagnosis, a religion, a genetic result, a biometric template), not for the
mere mention of a topic, so "blood donation", "Hospital Road" or a document's SHA-256
"fingerprint" stay ordinary.  Decisions worth knowing:
- A key that classifies an activity by religion (religious_site_cleanup_volunteer) is
  refused: the hours can be reported without it.  A value naming a place that happens to
  be a temple (寒山寺景区) is an address, as "医院路" is.
- Blood donation is ordinary; blood type is not, wherever it is written.
- "Fingerprint"/"thumbprint" of a document, file, key or certificate is a hash, not a
  biometric (exceptions below); raw ISO/IEC 19794 and ANSI-378 records are refused in any
  encoding the patterns know (base64, hex, bytes).
- "Fault diagnosis" (故障诊断) of a meter or vehicle is not a medical diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass

from compliance.screening import CategorySpec, PolicySpec

DEFAULT_POLICY_VERSION = 1


@dataclass(frozen=True)
class PatternDefault:
    name: str
    pattern: str
    description: str


@dataclass(frozen=True)
class CategoryDefault:
    code: str
    name_zh: str
    name_en: str
    legal_source: str
    key_terms: tuple[str, ...]
    value_patterns: tuple[PatternDefault, ...]


# Words that put a religion, a genetic test or a condition next to a person.
_FAITHS_EN = (
    r"muslim|christian|catholic|buddhist|hindu|jew|jewish|sikh|protestant|mormon|taoist"
    r"|evangelical|orthodox\s+christian"
)
_CONDITIONS_EN = (
    r"diabetes|hypertension|cancer|leuka?emia|hiv|epilepsy|schizophrenia|depression"
    r"|bipolar\s+disorder|tuberculosis|hepatitis(?:\s*[abc])?|dementia|alzheimer'?s"
    r"|parkinson'?s|asthma|autism|adhd"
)

# fmt: off
RELIGIOUS_BELIEF = CategoryDefault(
    code="religious_belief",
    name_zh="宗教信仰",
    name_en="Religious belief",
    legal_source="SH 14; ZJ 14; CRR 14; PIPL 28",
    key_terms=(
        "宗教", "信仰", "宗教信仰", "教派", "教会", "寺庙", "清真寺", "教堂", "礼拜", "皈依",
        "受洗", "信教", "基督教", "基督徒", "天主教", "伊斯兰教", "穆斯林", "佛教", "道教",
        "religion", "religious", "=faith", "=faiths", "=belief", "=beliefs", "=creed",
        "church", "mosque", "synagogue", "=temple", "worship", "congregation", "parish",
        "clergy", "baptism", "baptized", "baptised", "atheist", "atheism", "=muslim",
        "=islam", "islamic", "christian", "catholic", "buddhist", "buddhism", "=hindu",
        "judaism", "=taoist", "taoism", "=sikh",
        "zongjiao", "xinyang", "=jiaopai", "jiaohui", "simiao", "qingzhensi", "jiaotang",
        "=libai", "libaisi", "=guiyi", "=shouxi", "=xinjiao",
        "!good faith", "!bad faith", "!christian name", "!temple fair",
    ),
    value_patterns=(
        PatternDefault(
            "religion_statement_zh",
            r"(?:信仰|信奉|皈依|笃信|虔信|信)\s*(?:了\s*)?(?:基督|天主|伊斯兰|佛|道|东正|犹太|耶稣)教"
            r"|(?:宗教信仰|宗教|信仰)\s*(?:为|是|[:：])\s*\S",
            "A sentence or label giving a person's religion, e.g. 他信仰基督教, 宗教：佛教.",
        ),
        PatternDefault(
            "believer_zh",
            r"(?:基督|天主|伊斯兰|佛|道|东正|犹太)教(?:徒|信徒|信众)|穆斯林|基督徒|佛教居士|受洗|皈依",
            "A word for a believer or a rite of joining a faith (穆斯林, 基督徒, 受洗).",
        ),
        PatternDefault(
            "worship_zh",
            r"(?:去|到|在|上|参加|参与)\s*(?:教堂|清真寺|寺庙|寺院|教会|佛堂)\s*(?:做|参加|进行|举行)?"
            r"\s*(?:礼拜|弥撒|祷告|祈祷|聚会|主麻|法会)|做礼拜|主日礼拜|望弥撒|主麻日?礼拜|斋月|封斋|烧香拜佛",
            "Attendance at worship: 去清真寺做礼拜, 主日礼拜, 斋月.",
        ),
        PatternDefault(
            "religion_statement_en",
            r"(?i:\b(?:is|was|am|are|being|became|become|identifies\s+as|raised)\s+(?:a\s+|an\s+)?"
            r"(?:(?:practi[cs]ing|devout|observant|committed|born[\s-]again)\s+)?"
            rf"(?:{_FAITHS_EN}|atheist)\b"
            rf"|\b(?:practi[cs]ing|devout|observant|born[\s-]again)\s+(?:{_FAITHS_EN})s?\b"
            r"|\bconverted\s+to\s+(?:islam|christianity|catholicism|buddhism|judaism|hinduism"
            r"|taoism)\b"
            r"|\b(?:religion|religious\s+(?:affiliation|belief))\s*(?:is|was|[:=：])\s*\w"
            r"|(?<!good\s)(?<!bad\s)\bfaith\s*[:=：]\s*\w)",
            "An English statement of a person's religion: 'is a practising Muslim'.",
        ),
        PatternDefault(
            "worship_en",
            r"(?i:\b(?:attends?|attended|attending|goes\s+to|went\s+to|worships?\s+at|prays?\s+at"
            r"|member\s+of|belongs\s+to)\s+(?:(?:the|a|an|his|her|their|local|weekly|sunday"
            r"|friday|daily|nearby)\s+)*(?:mosque|church|synagogue|temple(?!\s+fair)|mass|parish"
            r"|congregation|gurdwara)\b)",
            "Attendance at or membership of a place of worship: 'attends mosque'.",
        ),
    ),
)

GENETIC = CategoryDefault(
    code="genetic",
    name_zh="基因信息",
    name_en="Genetic information",
    legal_source="SH 14; ZJ 14; CRR 14",
    key_terms=(
        "基因", "遗传", "遺傳", "染色体", "脱氧核糖核酸", "亲子鉴定", "基因组",
        "genetic", "genome", "genomic", "genotype", "=gene", "=genes", "=dna", "=rna",
        "dna sample", "dna sequence", "dna profile", "dna test", "dna result", "dna report",
        "dna data", "dna type", "deoxyribonucleic", "chromosome", "chromosomal",
        "hereditary", "heredity", "allele", "=snp", "=snps", "paternity test", "=brca",
        "brca1", "brca2", "=apoe",
        "=jiyin", "jiyinjiance", "jiyinxinxi", "jiyinshuju", "jiyinxing", "jiyinzu",
        "jiyinbaogao", "yichuan", "ranseti", "qinzijianding",
    ),
    value_patterns=(
        PatternDefault(
            "dna_sequence",
            r"(?i:(?<![acgtu])(?=[acgtu]{20})(?:a++|c++|g++|[tu]++){8,})",
            "A run of 20 or more nucleotide letters that changes base at least 7 times (a DNA "
            "or RNA sequence; base64 padding such as AAAA... is not one).",
        ),
        PatternDefault(
            "snp_id",
            r"(?<![A-Za-z0-9])rs\d{3,10}(?![0-9])",
            "A dbSNP reference SNP identifier such as rs429358.",
        ),
        PatternDefault(
            "gene_variant",
            r"(?<![A-Za-z0-9])(?:BRCA[12]|APOE(?:[\s-]*[εeE]?[234](?:/[εeE]?[234])?)?|CFTR|MTHFR"
            r"|TP53|HLA-B\*?\d{2}(?::\d{2})?)(?![A-Za-z0-9])",
            "A gene or variant that is tested in people: BRCA1, APOE ε4, HLA-B*57:01.",
        ),
        PatternDefault(
            "consumer_genetic_test",
            r"(?i:23andMe|AncestryDNA|WeGene|MyHeritage\s*DNA)|微基因|23魔方|各色DNA|基因宝",
            "A direct-to-consumer genetic testing service.",
        ),
        PatternDefault(
            "genetic_test_zh",
            r"基因(?:检测|检验|测序|筛查|鉴定|报告|分型|型|突变|缺陷|信息|数据)"
            r"|(?:携带|遗传)\S{0,8}?(?:致病)?基因|遗传(?:病|性疾病|缺陷)|染色体(?:异常|检查|核型)"
            r"|亲子鉴定|DNA\s*(?:鉴定|检测|比对|样本|数据)",
            "A genetic test or result in Chinese: 基因检测结果, 携带致病基因, 亲子鉴定.",
        ),
        PatternDefault(
            "genetic_test_en",
            r"(?i:\bgenetic\s+(?:test(?:ing|s)?|screening|report|result|marker|disorder|condition"
            r"|profile|predisposition|analysis)|\bgenotyp(?:e|ed|ing)\b|\bDNA\s+(?:test(?:ing)?"
            r"|profile|sample|sequenc\w*|analysis|result|report|match|paternity)|\bpaternity\s+test"
            r"|\bcarrier\s+of\s+(?:the\s+|a\s+)?[\w-]+\s+(?:gene|mutation|variant)"
            r"|\bgene(?:tic)?\s+(?:mutation|variant)s?\b|\bwhole[\s-]genome\b"
            r"|\bgenome\s+sequencing)",
            "A genetic test or result in English: 'genetic test result', 'DNA profile'.",
        ),
    ),
)

# "Fingerprint" of a document, key or device is a hash, not a biometric.
_HASH_PRINTS = (
    "!document fingerprint", "!file fingerprint", "!digital fingerprint",
    "!certificate fingerprint", "!cert fingerprint", "!key fingerprint",
    "!public key fingerprint", "!hash fingerprint", "!sha256 fingerprint",
    "!device fingerprint", "!browser fingerprint", "!certificate thumbprint",
    "!cert thumbprint", "!key thumbprint", "!sha1 thumbprint",
    "!文件指纹", "!数字指纹", "!证书指纹", "!文档指纹", "!设备指纹",
)

FINGERPRINT = CategoryDefault(
    code="fingerprint",
    name_zh="指纹",
    name_en="Fingerprint",
    legal_source="SH 14; ZJ 14; CRR 14",
    key_terms=(
        "指纹", "指紋", "指模",
        "fingerprint", "thumbprint", "fingermark", "finger scan", "minutiae", "=fmr",
        "tenprint",
        "zhiwen", "!zhiwenjian", "!zhiwenben",
        *_HASH_PRINTS,
    ),
    value_patterns=(
        PatternDefault(
            "finger_minutiae_record_base64",
            r"Rk1SA[A-P][A-Za-z0-9+/]{6,}",
            "An ISO/IEC 19794-2 or ANSI-378 finger minutiae record ('FMR\\0') in base64.",
        ),
        PatternDefault(
            "finger_image_record_base64",
            r"RklSA[A-P][A-Za-z0-9+/]{6,}",
            "An ISO/IEC 19794-4 finger image record ('FIR\\0') in base64.",
        ),
        PatternDefault(
            "finger_record_hex",
            r"(?i:46\s?(?:4d|49)\s?52\s?00)",
            "The header of a finger minutiae or image record ('FMR\\0', 'FIR\\0') in hex.",
        ),
        PatternDefault(
            "finger_record_bytes",
            r"(?:FMR|FIR)\x00",
            "The header of a finger minutiae or image record as raw characters.",
        ),
        PatternDefault(
            "fingerprint_data_zh",
            r"(?<![件字书备档])指纹(?:模板|特征|图像|图片|数据|信息|编码|比对|采集|录入"
            r"|识别(?:结果|记录|数据))|(?:采集|录入|比对|提取)(?:了)?(?:其|当事人|本人|他|她)?(?:的)?指纹",
            "Fingerprint data or its collection in Chinese: 指纹模板, 采集指纹.",
        ),
        PatternDefault(
            "fingerprint_data_en",
            r"(?i:(?<!document\s)(?<!file\s)(?<!digital\s)(?<!certificate\s)(?<!cert\s)(?<!key\s)"
            r"(?<!device\s)(?<!browser\s)\b(?:finger|thumb)[\s-]?prints?\s+(?:template|minutiae"
            r"|image|scan|record|data|match(?:ed|ing)?|sample)s?\b|\bminutiae\b"
            r"|\bISO/IEC\s*19794-[24]\b|\bINCITS\s*378\b|\bten[\s-]?print\b)",
            "Fingerprint data in English: 'fingerprint template', 'minutiae'.",
        ),
    ),
)

BLOOD_TYPE = CategoryDefault(
    code="blood_type",
    name_zh="血型",
    name_en="Blood type",
    legal_source="SH 14; ZJ 14; CRR 14; TJ 16",
    key_terms=(
        "血型", "熊猫血",
        "blood type", "blood group", "blood grp", "=abo", "abo group", "abo type", "~rh",
        "=rhd", "rh factor", "rh type", "rh group", "blood rh", "rhesus",
        "xuexing", "xiongmaoxue", "rhyinxing", "rhyangxing",
    ),
    value_patterns=(
        PatternDefault(
            "blood_group_zh",
            r"(?<![A-Za-z0-9])(?<!型号)(?<!规格)(?<!类型)(?<!车型)(?<!型号[:：])(?<!规格[:：])"
            r"(?<!类型[:：])(?<!车型[:：])(?:AB|A|B|O)\s*型(?:\s*血|(?![\u3400-\u9fffA-Za-z0-9]))",
            "A blood group in Chinese notation: O型, AB型血 (not O型圈 or A型车位).",
        ),
        PatternDefault(
            "blood_type_statement_zh",
            r"血型\s*(?:为|是|属于|[:：])?\s*(?:AB|A|B|O|RH|Rh|rh)(?![A-Za-z])"
            r"|血型\s*(?:检测|鉴定|化验)(?:结果|报告)|(?:Rh|RH|rh)\s*(?:阴性|阳性|血型|因子)"
            r"|熊猫血|稀有血型",
            "A blood type stated in Chinese: 血型为AB型, 血型O, Rh阴性, 熊猫血.",
        ),
        PatternDefault(
            "blood_type_en",
            r"(?i:\bblood\s*(?:type|group)\s*(?:is|was|[:=：])?\s*(?-i:AB|A|B|O)(?![a-z])"
            r"|\b(?-i:AB|A|B|O)\s*(?:rh\s*)?(?:pos(?:itive)?|neg(?:ative)?|[+\-−])\s*blood\b"
            r"|\btype\s+(?-i:AB|A|B|O)\s*[+\-−]?\s*blood\b"
            r"|\brhd?\s*(?:[+\-−](?![0-9A-Za-z])|pos(?:itive)?\b|neg(?:ative)?\b|factor\b)"
            r"|\brhesus\s+(?:pos|neg|factor))",
            "A blood type in English: 'blood type AB', 'O negative blood', 'Rh-', 'AB Rh-'.",
        ),
    ),
)

MEDICAL_HISTORY = CategoryDefault(
    code="medical_history",
    name_zh="疾病和病史",
    name_en="Diseases and medical history",
    legal_source="SH 14; ZJ 14; CRR 14; TJ 16",
    key_terms=(
        "病史", "疾病", "诊断", "診斷", "病历", "病歷", "病情", "病症", "既往史", "住院",
        "健康状况", "健康档案", "体检结果", "体检报告", "病案", "医疗记录", "就诊记录",
        "慢性病", "传染病", "精神病", "过敏史", "用药记录", "用药史",
        "medical history", "medical record", "medical condition", "medical examination",
        "medical treatment", "health record", "health condition", "health status",
        "physical examination", "diagnosis", "diagnoses", "diagnostic", "=diagnosed",
        "illness", "disease", "diseases", "sickness", "=icd", "=icd9", "icd10", "icd11",
        "icd code", "=hiv", "hiv status", "mental health", "psychiatric", "medication",
        "symptom", "hospitalization", "hospitalisation", "hospitalized", "hospitalised",
        "hospital stay", "hospital admission", "inpatient", "comorbid", "allergy",
        "allergies",
        "bingshi", "jibing", "zhenduan", "bingli", "bingqing", "jiwangshi", "=zhuyuan",
        "zhuyuanjilu", "zhuyuanbingli", "jiankangzhuangkuang", "jiankangdangan",
        "tijianjieguo", "tijianbaogao", "manxingbing", "jingshenbing",
        "!disease control", "!disease prevention", "!疾病预防控制", "!fault diagnosis",
        "!fault diagnostic", "!fault diagnostics", "!故障诊断",
    ),
    value_patterns=(
        PatternDefault(
            "icd_code_in_context",
            r"(?i:\bICD[\s-]?(?:9|10|11)?(?:[\s-]?CM)?\s*(?:code|编码|代码)?\s*[:：=]?\s*"
            r"(?-i:[A-TV-Z])\d{2}(?:\.\d{1,4})?(?![0-9]))"
            r"|(?:诊断|确诊|(?i:diagnos(?:is|ed|e)))\s*(?:为|是|编码|代码|(?i:code)|[:：=])?\s*"
            r"(?-i:[A-TV-Z])\d{2}(?:\.\d{1,4})?(?![0-9A-Za-z])",
            "An ICD code next to 'ICD' or a diagnosis word (ICD-10: E11.9, 诊断：J45); "
            "a bare code such as A12 is not enough.",
        ),
        PatternDefault(
            "diagnosis_zh",
            r"确诊|罹患|患有|患上|(?:医院|医生|门诊|临床|病理|出院|入院|初步|最终|医学)诊断"
            r"|诊断(?:证明|书|报告)|诊断为\S{0,10}?(?:病|症|炎|癌|瘤|综合征|障碍)"
            r"|病史|既往史|病情|病历|病案",
            "A diagnosis or medical history in Chinese: 确诊为糖尿病, 患有高血压, 既往史.",
        ),
        PatternDefault(
            "hospital_stay_zh",
            r"住院(?:治疗|期间|记录|病历|病案|天数|号|手术|观察)|因病住院|(?:曾|已|正在|仍在|仍)住院"
            r"|入院治疗|出院(?:小结|记录|诊断)|重症监护",
            "A hospital stay in Chinese: 住院治疗, 因病住院, 出院小结.",
        ),
        PatternDefault(
            "disease_name_zh",
            r"(?:(?:患|得|有|罹|染|查出|检出|确诊|诊断为|因|伴|合并)(?:了|过|上|有)?\s*"
            r"|(?:本人|其|他|她|当事人|申请人|被执行人|该人|该员工|病人|患者)\s*(?:的)?)"
            r"(?:[^，。；,.;\s]{0,4}?)(?:糖尿病|高血压|艾滋病|乙肝|丙肝|肝炎|肺结核|结核病|癌症|恶性肿瘤"
            r"|白血病|抑郁症|焦虑症|精神分裂|精神病|双相情感障碍|癫痫|阿尔茨海默|帕金森|尿毒症|心脏病"
            r"|冠心病|脑梗|哮喘|梅毒|淋病|尖锐湿疣|红斑狼疮|渐冻症|肾衰竭|肝硬化|肺癌|胃癌|乳腺癌|肝癌"
            r"|中风|痛风|甲亢|白内障|青光眼|自闭症|多动症|唐氏综合征)"
            r"|(?:糖尿病|高血压|艾滋病|乙肝|丙肝|肝炎|结核|癌症|白血病|抑郁症|精神分裂|癫痫|帕金森|尿毒症"
            r"|心脏病|哮喘|梅毒)\S{0,4}?(?:患者|病人|携带者|病毒携带|病史|确诊|复发|晚期|早期|发作)"
            r"|(?:HIV|hiv)(?:阳性|感染)",
            "A disease named with a person beside it (患有糖尿病, 当事人高血压); a disease named "
            "alone, as in 糖尿病防治宣传, is a topic, not a finding.",
        ),
        PatternDefault(
            "diagnosis_en",
            r"(?i:\b(?:was|been|is|were|being|recently|newly|formally)\s+diagnosed\b"
            r"|\bdiagnosed\s+(?:with|as)\b|\b(?:medical|clinical|doctor'?s|hospital|final|primary"
            r"|psychiatric)\s+diagnosis\b|\bhospitali[sz](?:ed|ation)\b|\badmitted\s+to\s+"
            r"(?:the\s+|a\s+)?(?:hospital|icu|psychiatric)|\bin-?patient\s+(?:treatment|care|stay"
            r"|admission|ward)|\bmedical\s+(?:history|condition|record)s?\b|\bterminal(?:ly)?\s+ill\b"
            r"|\bchemotherapy\b|\bdialysis\b|\bHIV[\s-]?positive\b)",
            "A diagnosis, hospital stay or medical history in English: 'was diagnosed with'.",
        ),
        PatternDefault(
            "condition_en",
            r"(?i:\bsuffer(?:s|ed|ing)?\s+from\s+(?:a\s+|an\s+)?(?:(?:chronic|mental|severe|terminal"
            r"|serious|long-term)\s+)?(?:illness|disease|condition|disorder|cancer|diabetes"
            r"|depression|hypertension|epilepsy|hiv|aids|asthma|dementia|schizophrenia)"
            r"|\b(?:has|had|with|living\s+with|history\s+of)\s+(?:(?:type\s+[12]|chronic|severe)\s+)?"
            rf"(?:{_CONDITIONS_EN})\b)",
            "A person's illness in English: 'suffers from chronic illness', 'has diabetes'.",
        ),
    ),
)

BIOMETRIC = CategoryDefault(
    code="biometric",
    name_zh="生物识别信息",
    name_en="Biometric information (face, iris, voice print, palm)",
    legal_source="TJ 16; PIPL 28",
    key_terms=(
        "生物识别", "生物識別", "生物特征", "人脸", "人臉", "面部特征", "面部识别", "面容",
        "刷脸", "虹膜", "视网膜", "声纹", "聲紋", "掌纹", "掌紋", "掌静脉", "指静脉", "步态",
        "biometric", "facial", "=face image", "=face photo", "=face print", "=face template",
        "=face feature", "=face features", "=face recognition", "=face data",
        "=face encoding", "=face embedding", "=face vector", "=face scan", "=face id",
        "=face geometry", "faceprint", "=iris", "iris scan", "iris image", "iris template",
        "iris code", "retina", "retinal", "voiceprint", "voice sample", "voice template",
        "palmprint", "palm vein", "finger vein", "hand geometry", "=gait", "gait analysis",
        "shengwushibie", "shengwutezheng", "=renlian", "renlianshibie", "renlianzhaopian",
        "renliantezheng", "renlianmoban", "renlianshuju", "renliantupian", "hongmo",
        "shiwangmo", "=shengwen", "shengwenshibie", "shengwentezheng", "zhangwen",
        "zhangjingmai", "zhijingmai", "mianbutezheng", "mianbushibie", "shualian",
    ),
    value_patterns=(
        PatternDefault(
            "face_record_base64",
            r"RkFDA[A-P][A-Za-z0-9+/]{6,}",
            "An ISO/IEC 19794-5 face image record ('FAC\\0') in base64.",
        ),
        PatternDefault(
            "iris_record_base64",
            r"SUlSA[A-P][A-Za-z0-9+/]{6,}",
            "An ISO/IEC 19794-6 iris image record ('IIR\\0') in base64.",
        ),
        PatternDefault(
            "biometric_record_hex",
            r"(?i:46\s?41\s?43\s?00|49\s?49\s?52\s?00)",
            "The header of a face or iris record ('FAC\\0', 'IIR\\0') in hex.",
        ),
        PatternDefault(
            "biometric_data_zh",
            r"(?:人脸|面部|虹膜|视网膜|声纹|掌纹|掌静脉|指静脉|步态)(?:特征|模板|图像|照片|图片|数据|信息"
            r"|编码|向量|比对|采集|录入|识别(?:结果|记录|数据|信息|比对))|生物识别(?:信息|数据|特征|模板)"
            r"|生物特征(?:信息|数据|模板)|刷脸(?:记录|数据|认证记录)",
            "Face, iris, voice, palm or gait data in Chinese: 人脸特征数据, 声纹模板.",
        ),
        PatternDefault(
            "biometric_data_en",
            r"(?i:\b(?:face|facial|iris|retina|retinal|voice|palm|vein|gait)[\s-]?(?:print"
            r"|template|embedding|encoding|geometry|biometrics?)s?\b"
            r"|\b(?:face|facial)\s?feature\s?vectors?\b"
            r"|\b(?:face|facial|iris|voice)\s+recognition\s+(?:data|template|result|record|match)"
            r"|\bbiometric\s+(?:data|template|record|identifier|sample|information)"
            r"|\bvoiceprint|\bfaceprint|\bpalmprint)",
            "Face, iris, voice or palm data in English: 'face template', 'voiceprint'.",
        ),
    ),
)
# fmt: on


@dataclass(frozen=True)
class Lexicon:
    """Vocabulary for one category from one source, loaded as policy data (its terms and
    patterns carry the source, so a regulator sees where each came from)."""

    category: str
    source: str
    key_terms: tuple[str, ...] = ()
    value_patterns: tuple[PatternDefault, ...] = ()


_DISEASES_ZH = (
    "糖尿病|高血压|艾滋病|乙肝|丙肝|肝炎|肺结核|结核病|癌症|恶性肿瘤|白血病|抑郁症|焦虑症|精神分裂"
    "|双相情感障碍|癫痫|阿尔茨海默|帕金森|尿毒症|心脏病|冠心病|脑梗|哮喘|红斑狼疮|肾衰竭|肝硬化"
    "|肺癌|胃癌|乳腺癌|肝癌|中风|痛风|甲亢"
)
_ZH_PERSON = r"(?:本人|其|他|她|当事人|申请人|被执行人|该人|该员工|病人|患者|该患者|员工)"

# fmt: off
VOCABULARY: tuple[Lexicon, ...] = (
    Lexicon(
        "medical_history",
        "Clinical abbreviations in common use (Dx, Hx, PMH, Rx); ICD-10 chapter titles; "
        "HL7 v2 segment names",
        key_terms=(
            "=pmh", "=med hx", "=medhx", "=meds", "prescription",
            "=icd10cm", "ailment", "comorbidity", "morbidity", "sick leave reason",
            "sick leave diagnosis", "discharge summary", "discharge diagnosis",
            "admission diagnosis", "lab result", "lab results", "blood test",
            "treatment plan", "surgery history", "surgical history", "disability type",
            "mental illness", "psych eval", "hiv test",
            "出院", "入院", "化验", "处方", "治疗方案", "手术史", "病假原因", "病假诊断",
            "病假事由",
            "主诉", "现病史", "检查结果", "化验结果", "服药", "用药", "患病", "病名", "病种",
            "=jbzd", "=jws", "bingjia",
        ),
        value_patterns=(
            PatternDefault(
                "treatment_zh",
                r"(?:正在|长期|定期|需要|需|在|曾)\s*(?:服用|服|注射|接受)\S{0,12}?(?:药|素|治疗|化疗|放疗|透析)"
                r"|(?:化疗|放疗|透析|胰岛素治疗|抗病毒治疗|心理治疗|康复治疗)(?:中|期间|疗程)"
                r"|(?:做了|接受了?|进行了?)\S{0,6}?手术",
                "A person's treatment stated in Chinese: 正在服用降压药, 透析期间, 接受了心脏手术.",
            ),
            PatternDefault(
                "test_result_zh",
                r"(?:检查|检测|化验|筛查|体检)(?:结果)?\s*(?:显示|为|呈|[:：])?\s*(?:阳性|阴性|异常|偏高|偏低)"
                r"|(?:HIV|乙肝|丙肝|梅毒|核酸|抗体)\S{0,4}?(?:阳性|阴性)"
                r"|血糖\s*\d|血压\s*\d{2,3}\s*/\s*\d{2,3}",
                "A person's test result in Chinese: 检查结果显示阳性, 乙肝表面抗原阳性, "
                "血压150/95.",
            ),
            PatternDefault(
                "sick_leave_zh",
                r"病假\S{0,8}?(?:原因|事由|诊断)|因\S{0,8}?(?:病|症|炎|伤)\S{0,2}?(?:请假|休假|病休)"
                r"|(?:入院|出院|住院)(?:日期|时间|诊断|记录)|(?:入|住)院(?:記錄|診斷)",
                "A sick-leave reason or a hospital admission or discharge record, in simplified or "
                "traditional Chinese.",
            ),
            PatternDefault(
                "diagnosis_context_zh",
                rf"{_ZH_PERSON}\s*(?:的)?\s*(?:患有|患|得了|有)\s*(?:{_DISEASES_ZH})"
                r"|(?:诊断|確診|診斷)(?:为|為|是)?\S{0,8}?(?:病|症|炎|癌|瘤)",
                "A person with a named disease: 当事人患有糖尿病; a diagnosis in traditional "
                "Chinese: 診斷為糖尿病.",
            ),
            PatternDefault(
                "treatment_en",
                r"(?i:\b(?:takes|taking|took|on|prescribed|receiving|received|undergoing|underwent)\s+"
                r"(?:daily\s+|regular\s+)?(?:insulin|metformin|chemo(?:therapy)?|radiotherapy"
                r"|antidepressants?|antiretrovirals?|methadone|dialysis|medication\s+for)\b"
                r"|\b(?:admitted|discharged)\s+(?:to|from)\s+(?:the\s+)?(?:hospital|ward|icu)\b"
                r"|\bsick\s+(?:leave|note)\s+(?:for|due\s+to|because\s+of)\s+\w"
                r"|\btested\s+(?:positive|negative)\s+for\b"
                r"|\b(?:HbA1c|eGFR|CD4\s+count|viral\s+load)\b)",
                "A person's treatment, hospital stay, sick-leave reason or test result in English: "
                "'takes insulin', 'discharged from hospital', 'tested positive for'.",
            ),
            PatternDefault(
                "fhir_clinical_resource",
                r"\b(?:Condition|AllergyIntolerance|MedicationStatement|MedicationRequest"
                r"|DiagnosticReport|FamilyMemberHistory|ClinicalImpression|MolecularSequence)\b"
                r"(?=[\s\S]{0,200}(?:subject|patient|clinicalStatus|code))",
                "A FHIR clinical resource about a person (Condition, AllergyIntolerance, ...).",
            ),
        ),
    ),
    Lexicon(
        "blood_type",
        "ABO and Rh(D) blood group notation (ISBT 128 names the standard labels)",
        key_terms=(
            "=bld type", "=bld grp", "=bldtype", "=bldgrp", "=btype", "abo rh", "isbt128",
            "=abo group", "blood typing", "=xx lx", "xuexinglx", "血型代码", "血型编码",
        ),
        value_patterns=(
            PatternDefault(
                "blood_group_short",
                r"(?<![A-Za-z0-9])(?:AB|A|B|O)\s*(?:Rh)?\s*(?:\+|-|−|pos|neg)(?:\s*(?:血|型|blood))"
                r"|(?i:\bABO\s*[/:=]\s*(?-i:AB|A|B|O)\b)",
                "A blood group written short next to a blood word: AB+ blood, O-型, ABO: A.",
            ),
        ),
    ),
    Lexicon(
        "religious_belief",
        "Names of religions, denominations and observances (State Administration for "
        "Religious Affairs list of the five recognised religions; common English names)",
        key_terms=(
            "denomination", "=sect", "=rites", "=zjxy", "zongjiaoxinyang", "宗教派别", "教别",
            "信教情况", "宗教身份", "宗教活动", "教籍",
        ),
        value_patterns=(
            PatternDefault(
                "observance_zh",
                r"(?:每周|每逢|定期|常年)\S{0,4}?(?:做礼拜|礼拜|望弥撒|诵经|念佛|祷告|朝拜|守斋|封斋)"
                r"|(?:守|过)(?:斋月|安息日|开斋节|古尔邦节|圣诞节弥撒)|(?:受洗|皈依)(?:于|成为|为)"
                r"|(?:是|为)\S{0,4}?(?:基督徒|天主教徒|佛教徒|道教徒|穆斯林|伊斯兰教徒|清真教徒)"
                r"|(?:基督|天主|佛|道|伊斯兰)教(?:徒|信徒)",
                "A person's observance or membership of a faith in Chinese: 每周做礼拜, 守斋月.",
            ),
            PatternDefault(
                "observance_en",
                r"(?i:\b(?:observes?|observing|fasts?\s+(?:during|for)|keeps?)\s+(?:the\s+)?"
                r"(?:ramadan|sabbath|lent|shabbat|kosher|halal)\b"
                r"|\b(?:he|she|they|applicant|resident|person|subject)\s+(?:is|was|are)\s+(?:a\s+)?"
                r"(?:member\s+of\s+(?:the\s+)?)?(?:baptist|methodist|lutheran|presbyterian|anglican"
                r"|pentecostal|adventist|jehovah'?s\s+witness|quaker|shia|sunni|sufi|tibetan\s+buddhist"
                r"|zen\s+buddhist)\b)",
                "An observance or denomination stated of a person in English: 'observes Ramadan', "
                "'she is a Methodist'.",
            ),
        ),
    ),
    Lexicon(
        "genetic",
        "HGNC gene symbols tested in people; cytogenetic notation (ISCN); forensic STR loci "
        "(CODIS core loci)",
        key_terms=(
            "karyotype", "pharmacogenomic", "pharmacogenetic", "ancestry result",
            "ancestry composition", "haplogroup", "=str profile", "codis", "=pgx", "=jyjc",
            "=cyp2c19", "=cyp2d6", "核型", "基因型", "单倍群", "祖源", "药物基因组",
        ),
        value_patterns=(
            PatternDefault(
                "karyotype",
                r"(?<![0-9A-Za-z])(?:4[5-9]|4[0-4]|69|92),\s*(?:XX|XY|XXY|XO|X|XYY)(?:,[^\s，。]{1,40})?"
                r"(?![A-Za-z])",
                "A karyotype in ISCN notation: 46,XY or 47,XX,+21.",
            ),
            PatternDefault(
                "str_profile",
                r"(?i:\b(?:D3S1358|vWA|FGA|D8S1179|D21S11|D18S51|D5S818|D13S317|D7S820|D16S539"
                r"|TH01|TPOX|CSF1PO|D2S1338|D19S433|Amelogenin)\b)",
                "A forensic DNA profile locus (CODIS core STR loci, amelogenin).",
            ),
            PatternDefault(
                "pharmacogenomic_result",
                r"(?:CYP2C19|CYP2D6|CYP2C9|VKORC1|SLCO1B1|TPMT|DPYD|UGT1A1)\s*(?:\*\d+|[:：]|基因型"
                r"|(?i:\s+(?:poor|intermediate|normal|rapid|ultrarapid)\s+metabol))",
                "A pharmacogenomic result: CYP2C19 *2/*3, CYP2D6 poor metaboliser.",
            ),
            PatternDefault(
                "ancestry_result",
                r"(?i:\b(?:ancestry|admixture)\s+(?:result|composition|estimate|breakdown)s?\b"
                r"|\bhaplogroup\s+[A-Z]\d?)|祖源(?:分析|报告|成分|检测)|单倍群\s*[A-Z]",
                "An ancestry or haplogroup result: 'ancestry composition', 单倍群O2.",
            ),
        ),
    ),
    Lexicon(
        "fingerprint",
        "ISO/IEC 19794-2 and -4, ANSI/INCITS 378 and 381, NIST ANSI/NIST-ITL 1 record names",
        key_terms=(
            "=minutia", "minutiae points", "=wsq", "=fmr", "=fir", "=ansi378", "=iso19794",
            "finger image", "=ridge count", "=nist itl", "latent print", "指纹特征点",
        ),
        value_patterns=(
            PatternDefault(
                "finger_record_standard",
                r"(?i:\bANSI[\s/-]*(?:INCITS[\s-]*)?(?:378|381)\b|\bISO(?:/IEC)?[\s-]*19794-[24]"
                r"|\bANSI/NIST-ITL\b|\bWSQ\b)",
                "The name of a fingerprint record or image standard (ANSI 378, ISO/IEC 19794-2, "
                "WSQ).",
            ),
        ),
    ),
    Lexicon(
        "biometric",
        "ISO/IEC 19794-5 (face), 19794-6 (iris), 19794-13 (voice); common template names",
        key_terms=(
            "face vector", "face landmarks", "facial landmarks", "face embedding",
            "voice embedding", "speaker embedding", "=ivector", "=xvector", "iris code",
            "landmarks68", "人脸向量", "人脸关键点", "声纹向量",
        ),
        value_patterns=(
            PatternDefault(
                "biometric_standard",
                r"(?i:\bISO(?:/IEC)?[\s-]*19794-(?:5|6|9|13)\b|\bFaceNet\b|\bArcFace\b"
                r"|\bi-?vector\b|\bx-?vector\b|\bspeaker\s+embedding\b|\b(?:68|5)[\s-]point\s+landmarks?\b)",
                "The name of a face, iris or voice template standard or model (ISO/IEC 19794-5, "
                "ArcFace).",
            ),
        ),
    ),
)
# fmt: on

DEFAULT_CATEGORIES: tuple[CategoryDefault, ...] = (
    RELIGIOUS_BELIEF,
    GENETIC,
    FINGERPRINT,
    BLOOD_TYPE,
    MEDICAL_HISTORY,
    BIOMETRIC,
)


def default_policy_spec() -> PolicySpec:
    """The shipped policy as the screening engine takes it, vocabulary included."""
    return PolicySpec(
        version=DEFAULT_POLICY_VERSION,
        categories=tuple(
            CategorySpec(
                code=category.code,
                key_terms=tuple(term for term, _source in category_terms(category.code)),
                value_patterns=tuple(
                    (p.name, p.pattern) for p, _source in category_patterns(category.code)
                ),
            )
            for category in DEFAULT_CATEGORIES
        ),
    )


def category_terms(code: str) -> list[tuple[str, str]]:
    """(term, source) for every shipped key term of a category, vocabulary last."""
    category = next(c for c in DEFAULT_CATEGORIES if c.code == code)
    found = {term: category.legal_source for term in category.key_terms}
    for lexicon in VOCABULARY:
        if lexicon.category == code:
            for term in lexicon.key_terms:
                found.setdefault(term, lexicon.source)
    return list(found.items())


def category_patterns(code: str) -> list[tuple[PatternDefault, str]]:
    category = next(c for c in DEFAULT_CATEGORIES if c.code == code)
    found = {p.name: (p, category.legal_source) for p in category.value_patterns}
    for lexicon in VOCABULARY:
        if lexicon.category == code:
            for pattern in lexicon.value_patterns:
                found.setdefault(pattern.name, (pattern, lexicon.source))
    return list(found.values())
