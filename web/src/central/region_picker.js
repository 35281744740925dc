// Linked pickers down central's region data (province → regency → kecamatan),
// each level filled when the one above is chosen. `value()` is the code of the
// deepest level, or '' until it is chosen.
import { api } from '../common/api.js';
import { h, replace } from '../common/dom.js';
import { t } from '../common/i18n.js';

export function regionPicker(idPrefix, levelNames) {
  const levels = levelNames.map((level) => ({
    level, el: h('select', { id: `${idPrefix}-${level}`, required: true }, h('option', { value: '' }, t('enroll.choose'))),
  }));
  const fill = async (index, parent) => {
    for (const later of levels.slice(index)) replace(later.el, h('option', { value: '' }, t('enroll.choose')));
    if (index >= levels.length) return;
    const { children } = await api(parent ? `/api/v1/regions/${parent}` : '/api/v1/regions');
    for (const region of children) levels[index].el.append(h('option', { value: region.code }, `${region.name} (${region.code})`));
  };
  levels.forEach(({ el }, index) => el.addEventListener('change', () => fill(index + 1, el.value)));
  fill(0, '');
  return {
    fields: levels.map(({ level, el }) => h('div', { class: 'field' }, h('label', { for: el.id }, t(`region.${level}`)), el)),
    value: () => levels[levels.length - 1].el.value,
  };
}
